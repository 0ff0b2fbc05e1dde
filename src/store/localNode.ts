/**
 * The node id of a gateway that is not part of a cluster. Rows written before nodes were
 * recorded (node_id NULL) are taken as this node's.
 */
export const LOCAL_NODE = 'local';

/** SQL matching rows of node `?` (bind the node id twice and LOCAL_NODE once, in that order). */
export const OF_NODE = '(node_id = ? OR (node_id IS NULL AND ? = ?))';

export function ofNode(nodeId: string): [string, string, string] {
  return [nodeId, nodeId, LOCAL_NODE];
}
