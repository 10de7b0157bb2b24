// claim: a thin shell over ClaimController. Output 1 "won", output 2 "lost"; a claim the broker
// does not allow at all (not one of Node-RED's members) goes to done(err).
module.exports = function (RED) {
  const { ClaimController, publishClaim } = require('../lib/homefacts.cjs')
  const showConnection = require('./status.js')

  function ClaimNode (config) {
    RED.nodes.createNode(this, config)
    const node = this
    const broker = RED.nodes.getNode(config.broker)
    if (!broker) return node.error('no homefacts broker configured')
    const controller = new ClaimController({
      member: config.member,
      publishClaim: (message) => broker.connection.start().then(() => publishClaim(broker.connection.client, message))
    })
    showConnection(node, broker.connection)
    node.on('input', (msg, send, done) => {
      controller.handle(msg).then((r) => {
        msg.claim = r
        send(r.outcome === 'won' ? [msg, null] : [null, msg])
        done()
      }, (err) => done(err))
    })
  }

  RED.nodes.registerType('homefacts-claim', ClaimNode)
}
