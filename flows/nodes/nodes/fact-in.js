// fact in: a thin shell over FactInController (subscribe, validate, drop resolved facts).
module.exports = function (RED) {
  const { FactInController } = require('../lib/homefacts.cjs')
  const showConnection = require('./status.js')

  function FactInNode (config) {
    RED.nodes.createNode(this, config)
    const node = this
    const broker = RED.nodes.getNode(config.broker)
    if (!broker) return node.error('no homefacts broker configured')
    let controller
    try {
      controller = new FactInController(lazyMirror(broker), {
        type: config.factType,
        area: config.area,
        thing: config.thing,
        topic: config.topic,
        dropResolved: config.dropResolved !== false,
        evidenceTimeoutMs: Number(config.evidenceTimeoutMs) || undefined
      })
    } catch (err) {
      return node.error(err.message)
    }
    showConnection(node, broker.connection)
    const abort = new AbortController()
    let unsubscribe = null
    // Resolves once the subscription is granted (tests await it).
    node.subscribed = broker.connection.subscribe(controller.filter, (topic, payload) => {
      controller.handle(topic, payload, abort.signal).then((r) => {
        if (r.action === 'send') {
          node.send({ topic, payload: r.fact, fact: r.fact, state: r.state, evidence: r.evidence })
        } else if (r.reason !== 'other-type') {
          node.debug(`dropped ${r.fact.type} ${r.fact.id}: ${r.reason}`)
          if (r.reason === 'no-evidence') node.warn(`dropped ${r.fact.type} ${r.fact.id}: no state to decide it on within ${controller.evidenceTimeoutMs} ms`)
        }
      }, (err) => {
        // A message the contract refuses: reported like any node failure, so Catch nodes see it.
        node.error(err, { topic, payload: payload.toString('utf8') })
      })
    }).then((off) => { unsubscribe = off }, (err) => node.error(err.message))
    node.subscribed.catch(() => {})
    node.on('close', (done) => {
      abort.abort()
      Promise.resolve(unsubscribe && unsubscribe()).then(() => done(), () => done())
    })
  }

  // The mirror exists once the connection started; the controller reads it through this proxy.
  function lazyMirror (broker) {
    return {
      evidence: (fact) => broker.connection.mirror.evidence(fact),
      waitForEvidence: (fact, opts) => broker.connection.mirror.waitForEvidence(fact, opts)
    }
  }

  RED.nodes.registerType('homefacts-fact-in', FactInNode)
}
