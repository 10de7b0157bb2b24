// state: a thin shell over StateController: the thing's retained state, from the mirror.
module.exports = function (RED) {
  const { StateController } = require('../lib/homefacts.cjs')
  const showConnection = require('./status.js')

  function StateNode (config) {
    RED.nodes.createNode(this, config)
    const node = this
    const broker = RED.nodes.getNode(config.broker)
    if (!broker) return node.error('no homefacts broker configured')
    let controller
    try {
      controller = new StateController({
        state: (subject) => broker.connection.mirror.state(subject),
        presence: (member) => broker.connection.mirror.presence(member),
        waitFor: (read, opts) => broker.connection.mirror.waitFor(read, opts)
      }, () => broker.connection.presence(), {
        area: config.area,
        thing: config.thing,
        timeoutMs: Number(config.timeoutMs) || undefined,
        members: String(config.members || '').split(',').map((m) => m.trim()).filter(Boolean)
      })
    } catch (err) {
      return node.error(err.message)
    }
    showConnection(node, broker.connection)
    node.on('input', (msg, send, done) => {
      broker.connection.start().then(() => controller.handle(msg)).then((r) => {
        msg.subject = r.subject
        msg.state = r.state
        msg.presence = r.presence
        if (config.output !== 'keep') msg.payload = r.state
        send(msg)
        done()
      }, (err) => done(err))
    })
  }

  RED.nodes.registerType('homefacts-state', StateNode)
}
