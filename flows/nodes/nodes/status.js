// Shows the broker connection on a node's status, and removes the listener on close.
module.exports = function showConnection (node, connection) {
  const show = (status) => node.status(status === 'connected'
    ? { fill: 'green', shape: 'dot', text: 'connected' }
    : { fill: status === 'connecting' ? 'yellow' : 'red', shape: 'ring', text: status })
  show(connection.status)
  const off = connection.onStatus(show)
  node.on('close', () => off())
}
