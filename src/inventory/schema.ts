/**
 * The inventory's JSON Schema, written once with TypeBox: the validator (ajv) checks against it,
 * `hactl schema` prints it for editors (yaml-language-server), and the README's inventory
 * reference is generated from its descriptions. One source, so the three cannot drift.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Names that end up in config files and shell commands: a strict allow-list, no quoting games. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
const HOSTNAME_PATTERN =
  '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';
const SERVER_NAME_PATTERN =
  '^(\\*\\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*(\\.\\*)?$';
const IFACE_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$';
const LABEL_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,13}:[A-Za-z0-9_]{1,14}$';
const PATH_PATTERN = '^/[A-Za-z0-9_./~%+=,@-]*$';
const ENV_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
const HOST_PATTERN = '^[A-Za-z0-9_.:-]+$';
const USER_PATTERN = '^[a-z_][a-z0-9_.-]{0,31}\\$?$';

const obj = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, description });
const opt = Type.Optional;

export const SshSchema = obj(
  {
    user: opt(
      Type.String({ pattern: USER_PATTERN, description: 'SSH login user. Default: root (or ~/.ssh/config User).' }),
    ),
    port: opt(Type.Integer({ minimum: 1, maximum: 65535, description: 'SSH port. Default: 22.' })),
    identity_file: opt(
      Type.String({
        minLength: 1,
        description: 'Private key file; ~ is expanded. Default: ~/.ssh/config IdentityFile, then the ssh-agent.',
      }),
    ),
    use_agent: opt(Type.Boolean({ description: 'Offer keys from the ssh-agent at $SSH_AUTH_SOCK. Default: true.' })),
    known_hosts: opt(
      Type.String({
        minLength: 1,
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
        pattern: '^([a-z_][a-z0-9_.-]*@)?[A-Za-z0-9_.:\\[\\]-]+(:[0-9]+)?$',
        description: 'Bastion as [user@]host[:port], like ssh -J.',
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
        description: 'The password, at most 8 characters (keepalived silently truncates longer ones). Prefer pass_env.',
      }),
    ),
    pass_env: opt(
      Type.String({
        pattern: ENV_PATTERN,
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

export const VipSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'vrrp_instance name (e.g. klg1).' }),
    address: Type.String({ minLength: 3, description: 'Virtual IP with prefix, e.g. 192.168.10.60/24.' }),
    vrid: Type.Integer({
      minimum: 1,
      maximum: 255,
      description: 'virtual_router_id: same on every node of this VIP, unique per network segment.',
    }),
    master: Type.String({ pattern: NAME_PATTERN, description: 'The load balancer that normally holds this VIP.' }),
    label: opt(Type.String({ pattern: LABEL_PATTERN, description: 'Interface label for the address, e.g. eth0:1.' })),
    priorities: opt(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), Type.Integer({ minimum: 1, maximum: 254 }), {
        description:
          'Per load balancer priority override. Default: master 150, then 100, 90, 80… in load_balancers order.',
      }),
    ),
    initial_state: opt(
      Type.Union([Type.Literal('MASTER'), Type.Literal('BACKUP')], {
        description: 'Initial state rendered on the master. Default: MASTER (BACKUP when preempt is false).',
      }),
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
          'script: vrrp_script polling nginx over HTTP; process: keepalived track_process on nginx; both; none. Default: script.',
      }),
    ),
    interval: opt(
      Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'Seconds between script runs. Default: 1.' }),
    ),
    timeout: opt(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 3600,
        description: 'Seconds before a script run counts as failed. Default: 1.',
      }),
    ),
    fall: opt(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Failures in a row before the check is failed. Default: 1.',
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
  },
  'The nginx health check that moves the VIP when nginx dies (seed section 7).',
);

export const LoadBalancerSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Host name; also the keepalived router_id.' }),
    address: Type.String({ pattern: HOST_PATTERN, description: 'Where hactl connects over SSH (IP or DNS name).' }),
    vrrp_address: opt(
      Type.String({
        minLength: 2,
        description:
          "This node's own address on the VRRP interface (unicast source, subnet checks). Default: address, when it is an IP.",
      }),
    ),
    interface: opt(
      Type.String({
        pattern: IFACE_PATTERN,
        description: "VRRP interface on this node. Default: the cluster's interface.",
      }),
    ),
    ssh: opt(SshSchema),
  },
  'A load balancer running keepalived and nginx.',
);

export const BackendSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Backend name, referenced by sites.' }),
    address: Type.String({ pattern: HOST_PATTERN, description: 'IP or DNS name of the web server.' }),
    port: opt(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default: 80.' })),
    weight: opt(Type.Integer({ minimum: 1, maximum: 1000, description: 'nginx upstream weight. Default: 1.' })),
    max_fails: opt(Type.Integer({ minimum: 0, maximum: 1000, description: "nginx max_fails. Default: nginx's (1)." })),
    fail_timeout: opt(Type.Integer({ minimum: 1, maximum: 86400, description: 'nginx fail_timeout in seconds.' })),
    backup: opt(Type.Boolean({ description: 'Only used when every non-backup server is down.' })),
  },
  'A web server behind the load balancers.',
);

export const SiteSchema = obj(
  {
    name: Type.String({
      pattern: NAME_PATTERN,
      description: 'Site name; the upstream is called <name> unless upstream is given.',
    }),
    server_names: Type.Array(Type.String({ pattern: SERVER_NAME_PATTERN }), {
      minItems: 1,
      description: 'nginx server_name values, e.g. www.rxinxin.org.',
    }),
    vips: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
      minItems: 1,
      description: 'Names of the VIPs this site listens on.',
    }),
    port: opt(Type.Integer({ minimum: 1, maximum: 65535, description: 'Listen port on each VIP. Default: 80.' })),
    backends: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
      minItems: 1,
      description: 'Names of the backends serving this site (one upstream).',
    }),
    upstream: opt(
      Type.String({
        pattern: NAME_PATTERN,
        description: 'Upstream name (the seed calls it xinxin). Default: the site name.',
      }),
    ),
    health_path: opt(
      Type.String({
        pattern: PATH_PATTERN,
        description: 'Path checked on each backend and through the VIP, e.g. /webserver.html. Default: /.',
      }),
    ),
    health_host: opt(
      Type.String({
        pattern: SERVER_NAME_PATTERN,
        description: 'Host header for checks. Default: the first server name.',
      }),
    ),
    proxy_headers: opt(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }),
        Type.String({ pattern: '^[A-Za-z0-9_$.:/ ,-]{1,200}$' }),
        {
          description:
            'proxy_set_header values. Default: Host $host, X-Forwarded-For $proxy_add_x_forwarded_for, X-Real-IP $remote_addr, X-Forwarded-Proto $scheme.',
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
        description: 'Extra nginx directives for the server block, one per item, without the trailing semicolon.',
      }),
    ),
  },
  'A virtual host served on one or more VIPs and proxied to backends.',
);

export const ClusterSchema = obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Cluster name.' }),
    interface: Type.String({
      pattern: IFACE_PATTERN,
      description: 'VRRP interface (e.g. eth0) on every load balancer, unless one overrides it.',
    }),
    load_balancers: Type.Array(LoadBalancerSchema, {
      minItems: 2,
      description: 'Two or more load balancers; backups are elected by priority.',
    }),
    vips: Type.Array(VipSchema, {
      minItems: 1,
      description: 'One VIP for active-passive; two with mirrored masters for dual-master.',
    }),
    vrrp: opt(obj(VrrpDefaultsSchema, 'Defaults for every VIP of this cluster.')),
    health_check: opt(HealthCheckSchema),
    nginx_status_port: opt(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'Loopback port of the status endpoint the health check and deploy query. Default: 8099.',
      }),
    ),
    backends: Type.Array(BackendSchema, { minItems: 1, description: 'Web servers behind the load balancers.' }),
    sites: Type.Array(SiteSchema, { minItems: 1, description: 'Virtual hosts.' }),
  },
  'A group of load balancers sharing VIPs.',
);

export const InventorySchema = Type.Object(
  {
    $schema: opt(Type.String()),
    version: opt(Type.Literal(1, { description: 'Inventory format version. Default: 1.' })),
    ssh: opt(SshSchema),
    clusters: Type.Array(ClusterSchema, { minItems: 1, description: 'One or more clusters.' }),
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
export type BackendDoc = Static<typeof BackendSchema>;
export type LoadBalancerDoc = Static<typeof LoadBalancerSchema>;
export { HOSTNAME_PATTERN };
