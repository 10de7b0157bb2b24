// The config node: owns the one MQTT connection (and its retained-state mirror) that every
// homefacts node of this broker shares. Credentials live in Node-RED's credential store.
module.exports = function (RED) {
  const { BrokerConnection } = require('../lib/homefacts.cjs')

  function HomefactsBrokerNode (config) {
    RED.nodes.createNode(this, config)
    const node = this
    const creds = node.credentials || {}
    node.connection = new BrokerConnection({
      url: config.url,
      username: creds.username || undefined,
      password: creds.password || undefined,
      clientId: config.clientId || `nodered-${node.id}`,
      persistent: config.persistent !== false
    })
    node.connection.onStatus((status, err) => {
      if (err) node.warn(`homefacts broker ${config.url}: ${err.message}`)
    })
    node.ready = node.connection.start()
    node.ready.catch((err) => node.error(`homefacts broker ${config.url}: ${err.message}`))
    node.on('close', (done) => { node.connection.stop().then(() => done(), () => done()) })
  }

  RED.nodes.registerType('homefacts-broker', HomefactsBrokerNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } }
  })
}
