/**
 * The inventory's JSON Schema, written once with TypeBox: the validator (ajv) checks against it,
 * `hactl schema` prints it for editors (yaml-language-server), and the README's inventory
 * reference is generated from its descriptions. One source, so the three cannot drift.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ENV_NAME, FILE_PATH, INTERFACE, JUMP_HOST, LABEL, SSH_USER } from './grammar-names.js';
import { HOST, VRRP_ADDRESS } from './grammar-addresses.js';
import { HEADER_NAME, HEADER_VALUE, HEALTH_HOST, HEALTH_PATH, SERVER_NAME } from './grammar-nginx.js';
import { PASSWORD_RULE } from './grammar-keepalived.js';
import { HOOK_COMMAND, WEBHOOK_URL } from './grammar-hooks.js';
import { HOSTNAME_PATTERN, NAME_PATTERN } from './patterns.js';

/**
 * Every string that reaches a config file or a command has a pattern from the grammar of that
 * file (src/inventory/grammar-*.ts); schema-check explains a failed pattern with the grammar's
 * own reason and fix.
 */

const obj = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, description });
const opt = Type.Optional;

export const SshSchema = obj(
  {
    user: opt(
      Type.String({ pattern: SSH_USER.pattern, description: 'SSH login user. Default: root (or ~/.ssh/config User).' }),
    ),
    port: opt(Type.Integer({ minimum: 1, maximum: 65535, description: 'SSH port. Default: 22.' })),
    identity_file: opt(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: FILE_PATH.pattern,
        description: 'Private key file; ~ is expanded. Default: ~/.ssh/config IdentityFile, then the ssh-agent.',
      }),
    ),
    use_agent: opt(Type.Boolean({ description: 'Offer keys from the ssh-agent at $SSH_AUTH_SOCK. Default: true.' })),
    known_hosts: opt(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: FILE_PATH.pattern,
        description:
          'OpenSSH known_hosts file checked (and, under accept-new, appended to). Default: ~/.ssh/known_hosts.',
      }),
    ),
    host_key_policy: opt(
      Type.Union([Type.Literal('strict'), Type.Literal('accept-new')], {
        description:
          'strict: an unknown host is refused. accept-new (default): an unknown key is recorded. A changed key is always refused.',
      }),
    ),
    jump_host: opt(
      Type.String({
        pattern: JUMP_HOST.pattern,
        maxLength: 300,
        description: 'Bastion as [user@]host[:port], like ssh -J (one bastion, no chains).',
      }),
    ),
    sudo: opt(Type.Boolean({ description: 'Run commands through `sudo -n`. Default: true when user is not root.' })),
    connect_timeout: opt(
      Type.Number({ minimum: 1, maximum: 120, description: 'Seconds to wait for the SSH handshake. Default: 10.' }),
    ),
  },
  'How hactl reaches hosts over SSH. Top-level values are defaults; a load balancer may override any of them.',
);

const AuthSchema = obj(
  {
    type: Type.Literal('PASS', {
      description: 'VRRP authentication type (keepalived supports PASS; AH is deprecated).',
    }),
    pass: opt(
      Type.String({
        minLength: 1,
        description: `The password, written unquoted as keepalived's auth_pass: ${PASSWORD_RULE} (keepalived silently truncates longer ones). Prefer pass_env.`,
      }),
    ),
    pass_env: opt(
      Type.String({
        pattern: ENV_NAME.pattern,
        description: 'Name of an environment variable holding the password, so the secret stays out of this file.',
      }),
    ),
  },
  'VRRP authentication (VRRPv2 only). Give exactly one of pass or pass_env.',
);

const VrrpDefaultsSchema = {
  advert_int: opt(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 255,
      description: 'Seconds between VRRP adverts. Default: 1. Below 1 requires vrrp_version 3.',
    }),
  ),
  vrrp_version: opt(
    Type.Union([Type.Literal(2), Type.Literal(3)], { description: 'VRRP protocol version. Default: 2.' }),
  ),
  auth: opt(AuthSchema),
  unicast: opt(
    Type.Boolean({
      description:
        'Send adverts by unicast to every other load balancer of the cluster instead of multicast 224.0.0.18. Default: false.',
    }),
  ),
  preempt: opt(
    Type.Boolean({
      description:
        'false renders nopreempt (every node starts BACKUP; a recovered master does not take the VIP back). Default: true.',
    }),
  ),
  preempt_delay: opt(
    Type.Integer({
      minimum: 0,
      maximum: 1000,
      description: 'Seconds a higher-priority node waits after startup before preempting.',
    }),
  ),
};

export const NotifySchema = obj(
  {
    command: opt(
      Type.String({
        pattern: HOOK_COMMAND.pattern,
        maxLength: 4096,
        description:
          "Absolute path of an executable run on the node at each VRRP state change, after hactl's own state write, with the event as JSON on stdin (also $HACTL_VIP, $HACTL_STATE, $HACTL_OLD_STATE, $HACTL_PRIORITY). Runs as root; must exist and be executable on every node (verify checks).",
      }),
    ),
    webhook: opt(
      Type.String({
        pattern: WEBHOOK_URL.pattern,
        maxLength: 2000,
        description:
          'URL the node POSTs the event to (JSON body, with curl). Treated as a secret: masked in plans and diffs, and the notify script becomes readable by root only.',
      }),
    ),
    timeout: opt(
      Type.Integer({
        minimum: 1,
        maximum: 60,
        description:
          'Seconds each call may take before it is killed. Default: 5. Calls run in the background: keepalived never waits for them.',
      }),
    ),
  },
  'State-change hooks (alerts, moving a cloud IP): events per VIP are delivered one at a time, in the order they happened.',
);

/** One more address of a VIP: it is added and removed with the VIP's own address. */
export const VipAddressSchema = obj(
  {
    address: Type.String({
      minLength: 3,
      maxLength: 64,
      description: 'Address with prefix, e.g. 10.0.0.61/24 or 2001:db8::60/64 (/32 and /128 are accepted).',
    }),
    dev: opt(
      Type.String({
        pattern: INTERFACE.pattern,
        description:
          "The interface this address goes on. Default: the VIP's dev, else the VRRP interface (the VIP on the public NIC, adverts on the private one). It must exist on every load balancer.",
      }),
    ),
    label: opt(
      Type.String({
        pattern: LABEL.pattern,
        description: 'Interface label for an IPv4 address: <dev>:<suffix>, at most 15 characters.',
      }),
    ),
  },
  'One more address of this VIP, on the VRRP interface unless dev says otherwise.',
);

/** A link keepalived watches besides the VRRP interface (an uplink, the backend-side NIC). */
export const TrackInterfaceSchema = obj(
  {
    interface: Type.String({
      pattern: INTERFACE.pattern,
      description: 'The interface, by the name `ip link` shows on every load balancer (e.g. eth1, bond0).',
    }),
    weight: opt(
      Type.Integer({
        minimum: -253,
        maximum: 253,
        description:
          '0 (default): the link going down puts the node in FAULT and releases the VIP at once. Negative: subtracted from priority while the link is down. Positive: added while it is up. lint checks that a weight can move the VIP.',
      }),
    ),
    down_delay: opt(
      Type.Number({
        minimum: 0,
        maximum: 255,
        description:
          "Seconds the link must stay down before keepalived acts on it, so a flapping link does not cause a failover storm (keepalived's interface_up_down_delays, 2.2.3 and later; older versions act at once). Below 2 × advert_int. Default: 0.",
      }),
    ),
    up_delay: opt(
      Type.Number({
        minimum: 0,
        maximum: 255,
        description: 'Seconds the link must stay up again before keepalived counts it as up. Default: down_delay.',
      }),
    ),
  },
  'A tracked link: when it goes down on the holder, the VIP moves.',
);

const trackInterfaces = (description: string) => opt(Type.Array(TrackInterfaceSchema, { maxItems: 16, description }));

export const VipSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'vrrp_instance name (e.g. klg1).' }),
    address: Type.String({
      minLength: 3,
      maxLength: 64,
      description:
        'Virtual IP with prefix, e.g. 192.168.10.60/24; a /32 (or /128) VIP may lie outside the subnet of the interface (a VIP routed to this segment).',
    }),
    vrid: Type.Integer({
      minimum: 1,
      maximum: 255,
      description: 'virtual_router_id: same on every node of this VIP, unique per network segment.',
    }),
    master: Type.String({ pattern: NAME_PATTERN, description: 'The load balancer that normally holds this VIP.' }),
    label: opt(
      Type.String({
        pattern: LABEL.pattern,
        description: 'Interface label for an IPv4 VIP: <interface>:<suffix>, at most 15 characters, e.g. eth0:1.',
      }),
    ),
    priorities: opt(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), Type.Integer({ minimum: 1, maximum: 254 }), {
        additionalProperties: false,
        description:
          'Per load balancer priority override. Default: master 150, then 100, 90, 80… in load_balancers order.',
      }),
    ),
    initial_state: opt(
      Type.Union([Type.Literal('MASTER'), Type.Literal('BACKUP')], {
        description: 'Initial state rendered on the master. Default: MASTER (BACKUP when preempt is false).',
      }),
    ),
    notify: opt(NotifySchema),
    dev: opt(
      Type.String({
        pattern: INTERFACE.pattern,
        description:
          'The interface the VIP address goes on, when it is not the VRRP interface (adverts stay on the VRRP interface). Default: the VRRP interface.',
      }),
    ),
    addresses: opt(
      Type.Array(VipAddressSchema, {
        maxItems: 64,
        description:
          "More addresses that always move with address (one virtual_ipaddress block, sent in adverts): of address's family. nginx listens on every one.",
      }),
    ),
    excluded_addresses: opt(
      Type.Array(VipAddressSchema, {
        maxItems: 64,
        description:
          "Addresses that move with the VIP but are left out of adverts (virtual_ipaddress_excluded): how one instance carries a site's IPv4 and IPv6 addresses, or very many addresses. nginx listens on every one.",
      }),
    ),
    track_interface: trackInterfaces(
      "Links tracked by this VIP, besides the cluster's track_interface (an entry for the same interface replaces the cluster's).",
    ),
    ...VrrpDefaultsSchema,
  },
  'A virtual IP: one vrrp_instance on every load balancer of the cluster.',
);

export const HealthCheckSchema = obj(
  {
    mode: opt(
      Type.Union([Type.Literal('script'), Type.Literal('process'), Type.Literal('both'), Type.Literal('none')], {
        description:
          "script: vrrp_script polling nginx over HTTP; process: keepalived track_process on nginx (needs keepalived in the host's initial PID and network namespaces, not a container: deploy checks); both; none. Default: script.",
      }),
    ),
    interval: opt(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 3600,
        description:
          "Seconds between nginx probes. 1 or more: keepalived's own script interval, whole seconds (keepalived reads no fraction). Below 1 (0.05 to 0.9, in hundredths): keepalived runs the check every second and the check probes every `interval` seconds within the run, failing at the first failed probe. Default: 1.",
      }),
    ),
    timeout: opt(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 3600,
        description:
          'Seconds a probe may take before it counts as failed: whole seconds with an interval of 1 or more (keepalived kills the run then); with a sub-second interval, per probe, in hundredths, at most 0.5. Default: 1 (0.2 with a sub-second interval).',
      }),
    ),
    fall: opt(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          "Failed HTTP probes (keepalived runs) in a row before the check is failed: a hung nginx. A dead one is the alive check's, without waiting for these. Default: 2 (1 with vrrp.profile fast).",
      }),
    ),
    rise: opt(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Successes in a row before the check is healthy again. Default: 2.',
      }),
    ),
    weight: opt(
      Type.Integer({
        minimum: -253,
        maximum: 253,
        description:
          '0 (default): a failed check puts the node in FAULT and releases the VIP at once. Negative: subtracted from priority on failure. Positive: added while healthy.',
      }),
    ),
    alive_interval: opt(
      Type.Number({
        minimum: 0,
        maximum: 0.9,
        description:
          "Seconds between the alive check's connects to nginx's status port (no request; a refused connect is a dead nginx, and the node gives up the VIP at once). A second keepalived script (hactl_nginx_alive, fall 1) that connects every `alive_interval` seconds within each one-second run, from bash, so a probe costs no process. 0.05 to 0.9 in hundredths, or 0 for none. Only with mode script or both and weight 0. Default: 0.1 (0 with a sub-second interval, whose HTTP probes find a dead nginx as soon, and with a weight or mode process or none).",
      }),
    ),
  },
  'The nginx health check, so a node whose nginx died gives up the VIP instead of black-holing it.',
);

/** An absolute path of plain characters: it reaches shell commands (quoted) and messages. */
const ABS_PATH = '^/[A-Za-z0-9._+/-]*$';
const absPath = (description: string) => Type.String({ pattern: ABS_PATH, maxLength: 4096, description });

export const NginxLayoutSchema = obj(
  {
    binary: opt(
      absPath(
        'The nginx binary of a build under its own prefix, e.g. /application/nginx/sbin/nginx. hactl then runs it directly (-t, -s reload, start), never a service and never the nginx package. Default: the packaged nginx and its service.',
      ),
    ),
    prefix: opt(absPath('Its -p prefix. Default: two levels above binary (/application/nginx).')),
    conf_dir: opt(absPath('Its configuration directory, e.g. /app/nginx/conf. Default: <prefix>/conf.')),
    conf: opt(absPath("Its main file (-c). Default: <conf_dir>/nginx.conf; it must include hactl's directory.")),
    include_dir: opt(
      absPath('Where hactl writes its site file (nginx.conf must `include` *.conf there). Default: <conf_dir>/conf.d.'),
    ),
    pid_file: opt(absPath('Its pid file. Default: <prefix>/logs/nginx.pid.')),
  },
  'How nginx is installed and run here. Absent: the distribution package and its service.',
);

/** keepalived's own process and gratuitous ARP settings (global_defs), for busy hosts and picky switches. */
export const KeepalivedSchema = obj(
  {
    vrrp_startup_delay: opt(
      Type.Number({
        minimum: 0,
        maximum: 3600,
        description:
          'Seconds VRRP waits after keepalived starts, so a backup does not claim the VIP while a bonded NIC settles after boot. It also delays every restart (deploy waits for it). Default: none.',
      }),
    ),
    max_auto_priority: opt(
      Type.Integer({
        minimum: -1,
        maximum: 99,
        description:
          "Highest realtime priority keepalived may raise itself to when it notices it runs late (a busy host), instead of missing adverts. keepalived 2.1 and later. Default: keepalived's (0: never).",
      }),
    ),
    vrrp_no_swap: opt(
      Type.Boolean({
        description:
          'Lock the VRRP process in memory, so swapping on a loaded host cannot delay adverts. Default: true (it is a few megabytes).',
      }),
    ),
    garp_master_delay: opt(
      Type.Integer({
        minimum: 0,
        maximum: 255,
        description:
          "Seconds after becoming MASTER before the second burst of gratuitous ARPs (0: none). Default: keepalived's (5).",
      }),
    ),
    garp_master_repeat: opt(
      Type.Integer({
        minimum: 1,
        maximum: 255,
        description: "Gratuitous ARPs per burst on becoming MASTER. Default: keepalived's (5).",
      }),
    ),
    garp_interval: opt(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "Seconds between gratuitous ARPs of a burst, for switches that drop back-to-back ones (e.g. 0.001). Default: keepalived's (0).",
      }),
    ),
  },
  "keepalived's global settings on every load balancer of this cluster (global_defs).",
);

export const LoadBalancerSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Host name; also the keepalived router_id.' }),
    address: Type.String({
      pattern: HOST.pattern,
      maxLength: 253,
      description: 'Where hactl connects over SSH: an IP or DNS name, without port (that is ssh.port).',
    }),
    vrrp_address: opt(
      Type.String({
        minLength: 2,
        maxLength: 64,
        pattern: VRRP_ADDRESS.pattern,
        description:
          "This node's own address on the VRRP interface (unicast source, subnet checks). Default: address, when it is an IP.",
      }),
    ),
    interface: opt(
      Type.String({
        pattern: INTERFACE.pattern,
        description: "VRRP interface on this node. Default: the cluster's interface.",
      }),
    ),
    ssh: opt(SshSchema),
    nginx: opt(NginxLayoutSchema),
  },
  'A load balancer running keepalived and nginx.',
);

export const BackendSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Backend name, referenced by sites.' }),
    address: Type.String({
      pattern: HOST.pattern,
      maxLength: 253,
      description: 'IP or DNS name of the web server, without port (that is port:) or brackets.',
    }),
    port: opt(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default: 80.' })),
    weight: opt(Type.Integer({ minimum: 1, maximum: 1000, description: 'nginx upstream weight. Default: 1.' })),
    max_fails: opt(Type.Integer({ minimum: 0, maximum: 1000, description: "nginx max_fails. Default: nginx's (1)." })),
    fail_timeout: opt(Type.Integer({ minimum: 1, maximum: 86400, description: 'nginx fail_timeout in seconds.' })),
    backup: opt(Type.Boolean({ description: 'Only used when every non-backup server is down.' })),
  },
  'A web server behind the load balancers.',
);

/** HTTPS for a site: its certificate and key, pushed to every load balancer of the cluster. */
export const TlsSchema = obj(
  {
    certificate: Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: FILE_PATH.pattern,
      description:
        'PEM file with the full chain, leaf first, then each issuer; relative to the inventory file. Checked before anything is written: the key matches, the chain is in order, every server name is covered, and it is valid now.',
    }),
    key: opt(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: FILE_PATH.pattern,
        description:
          'PEM file with the private key (unencrypted), relative to the inventory file. Give exactly one of key or key_env. Written root:root 0600 in a 0700 directory; never shown.',
      }),
    ),
    key_env: opt(
      Type.String({
        pattern: ENV_NAME.pattern,
        description:
          'Name of an environment variable holding the private key as PEM text, so it stays out of files next to the inventory.',
      }),
    ),
    redirect_http: opt(
      Type.Boolean({
        description: 'Port 80 on the VIPs answers 301 to https://$host$request_uri. Default: true.',
      }),
    ),
    hsts: opt(
      Type.Integer({
        minimum: 0,
        maximum: 63072000,
        description: 'Strict-Transport-Security max-age in seconds (e.g. 31536000). Default: no HSTS header.',
      }),
    ),
    http2: opt(Type.Boolean({ description: 'Serve HTTP/2 as well as HTTP/1.1. Default: true.' })),
    ca: opt(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: FILE_PATH.pattern,
        description:
          "PEM bundle of the CA(s) verify and failover-test trust for this site (an internal CA), relative to the inventory file. Default: the public roots node ships (Mozilla's list), plus any in NODE_EXTRA_CA_CERTS.",
      }),
    ),
    expiry_warning_days: opt(
      Type.Integer({
        minimum: 1,
        maximum: 365,
        description: 'validate and verify warn when the certificate expires within this many days. Default: 21.',
      }),
    ),
  },
  'HTTPS for this site: it listens on 443 (or port) with this certificate; several sites may share a VIP (SNI).',
);

export const SiteSchema = obj(
  {
    name: Type.String({
      pattern: NAME_PATTERN,
      description: 'Site name; the upstream is called <name> unless upstream is given.',
    }),
    server_names: Type.Array(Type.String({ pattern: SERVER_NAME.pattern, maxLength: 500 }), {
      minItems: 1,
      maxItems: 64,
      description:
        'nginx server_name values, written unquoted: host names (www.rxinxin.org), wildcards (*.example.com, www.example.*, .example.com), $hostname, or a regular expression starting with ~ without spaces, ; { } or \\\\ \\t \\n \\r.',
    }),
    vips: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
      minItems: 1,
      description: 'Names of the VIPs this site listens on.',
    }),
    port: opt(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'Listen port on each VIP. Default: 80 (443 with tls).' }),
    ),
    backends: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
      minItems: 1,
      description: 'Names of the backends serving this site (one upstream).',
    }),
    upstream: opt(
      Type.String({
        pattern: NAME_PATTERN,
        description: 'Upstream name (nginx `upstream` block). Default: the site name.',
      }),
    ),
    health_path: opt(
      Type.String({
        pattern: HEALTH_PATH.pattern,
        maxLength: 2000,
        description:
          'URL path (and query) checked on each backend and through the VIP, e.g. /webserver.html or /status?full=1; other characters as %XX. Default: /.',
      }),
    ),
    health_host: opt(
      Type.String({
        pattern: HEALTH_HOST.pattern,
        maxLength: 260,
        description:
          'Host header for checks. Default: the first server name that is a plain name (*.example.com gives www.example.com, .example.com gives example.com); required when there is none.',
      }),
    ),
    proxy_headers: opt(
      Type.Record(
        Type.String({ pattern: HEADER_NAME.pattern }),
        Type.String({ pattern: HEADER_VALUE.pattern, maxLength: 1000 }),
        {
          additionalProperties: false,
          description:
            'proxy_set_header name → value, the value written unquoted: one word of text and $variables (no spaces, ; { } \\ or leading # and quotes). Default: Host $host, X-Forwarded-For $proxy_add_x_forwarded_for, X-Real-IP $remote_addr, X-Forwarded-Proto $scheme.',
        },
      ),
    ),
    identify: opt(
      Type.Boolean({
        description:
          "Answer hactl's own probes (requests carrying the cluster's probe token) with X-Hactl-LB and X-Hactl-Upstream, so verify and failover-test can tell who answered; other requests never get them. Default: true.",
      }),
    ),
    extra: opt(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
        maxItems: 64,
        description:
          'Extra nginx directives for the server block, one simple directive per item, without the trailing semicolon, on one line. Read as nginx reads it: outside quotes no ; (it would start a second directive), no { (a block; ${var} is fine), no word starting with } (it would close the server block) or # (a comment), no final \\; quotes closed and followed by a space.',
      }),
    ),
    tls: opt(TlsSchema),
  },
  'A virtual host served on one or more VIPs and proxied to backends.',
);

export const ClusterSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Cluster name.' }),
    interface: Type.String({
      pattern: INTERFACE.pattern,
      description: 'VRRP interface (e.g. eth0) on every load balancer, unless one overrides it.',
    }),
    load_balancers: Type.Array(LoadBalancerSchema, {
      minItems: 2,
      maxItems: 32,
      description: 'Two to 32 load balancers; backups are elected by priority.',
    }),
    vips: Type.Array(VipSchema, {
      minItems: 1,
      maxItems: 64,
      description: 'Up to 64 VIPs: one for active-passive; two with mirrored masters for dual-master.',
    }),
    vrrp: opt(
      obj(
        {
          profile: opt(
            Type.Literal('fast', {
              description:
                'fast: VRRPv3 with adverts every 0.1 s (no authentication: VRRPv3 has none) and nginx probed every 0.1 s (each probe times out after 0.2 s), so a dead nginx or a dead master moves the VIP in a few hundred milliseconds instead of one to four seconds (`npm run bench` measures it, with a CPU-loaded soak). Anything set here or on a VIP wins over the profile.',
            }),
          ),
          ...VrrpDefaultsSchema,
        },
        'Defaults for every VIP of this cluster.',
      ),
    ),
    notify: opt(NotifySchema),
    track_interface: trackInterfaces('Links every VIP of this cluster tracks (the VRRP interface is always tracked).'),
    sync_groups: opt(
      Type.Array(
        obj(
          {
            name: Type.String({ pattern: NAME_PATTERN, description: 'vrrp_sync_group name.' }),
            vips: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
              minItems: 2,
              maxItems: 64,
              description: 'Names of the VIPs that change state together.',
            }),
          },
          'VIPs kept together (keepalived vrrp_sync_group): when one leaves MASTER, all do.',
        ),
        {
          maxItems: 32,
          description:
            'VIPs that must move together (keepalived vrrp_sync_group). lint refuses a group whose VIPs have different masters or any weighted tracker (keepalived ignores those in a group).',
        },
      ),
    ),
    keepalived: opt(KeepalivedSchema),
    health_check: opt(HealthCheckSchema),
    nginx: opt(NginxLayoutSchema),
    nginx_status_port: opt(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'Loopback port of the status endpoint the health check and deploy query. Default: 8099.',
      }),
    ),
    backends: Type.Array(BackendSchema, {
      minItems: 1,
      maxItems: 1024,
      description: 'Web servers behind the load balancers (up to 1024).',
    }),
    sites: Type.Array(SiteSchema, { minItems: 1, maxItems: 256, description: 'Virtual hosts (up to 256).' }),
  },
  'A group of load balancers sharing VIPs.',
);

export const InventorySchema = Type.Object(
  {
    $schema: opt(Type.String()),
    version: opt(Type.Literal(1, { description: 'Inventory format version. Default: 1.' })),
    ssh: opt(SshSchema),
    releases: opt(
      obj(
        {
          keep: opt(
            Type.Integer({
              minimum: 1,
              maximum: 100,
              description:
                'Releases kept on each load balancer (the newest; the current one is always kept). Default: 10.',
            }),
          ),
        },
        'Every deploy that changes a load balancer records a release there (/var/lib/hactl/releases), for hactl releases and hactl rollback.',
      ),
    ),
    clusters: Type.Array(ClusterSchema, { minItems: 1, maxItems: 64, description: 'One to 64 clusters.' }),
  },
  {
    additionalProperties: false,
    $id: 'https://hactl.dev/schema/inventory.json',
    title: 'hactl inventory',
    description: 'keepalived + nginx HA front ends managed by hactl.',
  },
);

export type InventoryDoc = Static<typeof InventorySchema>;
export type SshDoc = Static<typeof SshSchema>;
export type ClusterDoc = Static<typeof ClusterSchema>;
export type VipDoc = Static<typeof VipSchema>;
export type SiteDoc = Static<typeof SiteSchema>;
export type TlsDoc = Static<typeof TlsSchema>;
export type BackendDoc = Static<typeof BackendSchema>;
export type LoadBalancerDoc = Static<typeof LoadBalancerSchema>;
export type NginxLayoutDoc = Static<typeof NginxLayoutSchema>;
export type NotifyDoc = Static<typeof NotifySchema>;
export type VipAddressDoc = Static<typeof VipAddressSchema>;
export type TrackInterfaceDoc = Static<typeof TrackInterfaceSchema>;
export type KeepalivedDoc = Static<typeof KeepalivedSchema>;
export { HOSTNAME_PATTERN, NAME_PATTERN };
