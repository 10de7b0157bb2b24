// fact out: a thin shell over FactOutController (makeFact, a seq kept in the file context
// store, publish). Any failure goes to done(err), so Catch nodes see it.
module.exports = function (RED) {
  const { FactOutController } = require('../lib/homefacts.cjs')
  const showConnection = require('./status.js')

  function FactOutNode (config) {
    RED.nodes.createNode(this, config)
    const node = this
    const broker = RED.nodes.getNode(config.broker)
    if (!broker) return node.error('no homefacts broker configured')
    // Global, not node context: a redeploy that replaces the node keeps the seq, and every
    // fact out of one flow shares its subject's seq.
    const context = node.context().global
    // One store call at a time, so two messages never read the same seq.
    let queue = Promise.resolve()
    const store = {
      next: (key) => {
        const run = queue.then(() => new Promise((resolve, reject) => {
          context.get(key, 'file', (err, value) => {
            if (err) return reject(err)
            const seq = (Number(value) || 0) + 1
            context.set(key, seq, 'file', (err2) => err2 ? reject(err2) : resolve(seq))
          })
        }))
        queue = run.catch(() => {})
        return run
      }
    }
    let controller
    try {
      controller = new FactOutController({
        type: config.factType,
        flow: config.flow || slug(RED.util.getSetting ? RED.util.getSetting(node, 'NR_FLOW_NAME') : '') || 'node-red',
        store,
        publish: (topic, payload) => broker.connection.publish(topic, payload)
      })
    } catch (err) {
      return node.error(err.message)
    }
    showConnection(node, broker.connection)
    node.on('input', (msg, send, done) => {
      controller.handle(msg).then(({ topic, fact }) => {
        msg.topic = topic
        msg.payload = fact
        msg.fact = fact
        send(msg)
        done()
      }, (err) => done(err))
    })
  }

  function slug (name) {
    return String(name || '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  }

  RED.nodes.registerType('homefacts-fact-out', FactOutNode)
}
