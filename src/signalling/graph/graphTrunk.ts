/** The trunk name Graph-mode calls carry (metadata.trunk): their media policy is DTLS-SRTP, required. */
export const GRAPH_TRUNK = 'whatsapp-graph';
