/** `--help` text: the drachtio-server options the embedded engine accepts. */
export const ENGINE_USAGE = `Usage: sip-server [OPTIONS]

Embedded SIP server, wire-compatible with drachtio-server for drachtio-srf apps.

Options:
  -c, --contact <uri>      SIP contact to listen on (repeatable), e.g.
                           sip:127.0.0.1:5060;transport=udp,tcp  sips:127.0.0.1:5061;transport=tls
  -x, --external-ip <ip>   public address for the --contact before it
  -p, --port <port>        admin port for application connections (default 9022)
      --address <addr>     admin address (default 127.0.0.1)
      --secret <secret>    shared secret apps authenticate with (required)
      --key-file <file>    TLS key (required with a tls contact)
      --cert-file <file>   TLS certificate (required with a tls contact)
      --chain-file <file>  TLS certificate chain
  -l, --loglevel <level>   notice, error, warning, info (default), debug
      --stdout             log to standard output
      --noconfig           do not read a config file (the engine never reads one)
      --prometheus-scrape-port [<addr>:]<port>
                           serve Prometheus metrics on GET /metrics (and GET /health)
  -f, --file <file>        accepted for compatibility; not read
  -h, --help               print this help and exit
  -v, --version            print the version and exit
`;
