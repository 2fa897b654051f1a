/**
 * Pure: the layout of the document hactl grew from, an nginx under its own prefix with no
 * packaged service and no /etc/nginx (`--nginx prefix` on lab up). The lab places a copy of
 * the release's own nginx binary there (not a source build: the sources would have to come
 * from the registry and take minutes to build). That binary's compiled-in paths are Debian's
 * (/etc/nginx/nginx.conf), so it is always run with `-p PREFIX/ -c CONF`, which a source-built
 * nginx also accepts.
 */

export const NGINX_PREFIX = {
  prefix: '/application/nginx',
  binary: '/application/nginx/sbin/nginx',
  confDir: '/app/nginx/conf',
  conf: '/app/nginx/conf/nginx.conf',
  /** nginx.conf includes every *.conf here: where hactl writes its site files. */
  includeDir: '/app/nginx/conf/conf.d',
  pidFile: '/application/nginx/logs/nginx.pid',
} as const;

/** The command line that runs this nginx with `args` (`-t`, `-s reload`, nothing to start it). */
export function prefixNginxCommand(args: string[] = []): string[] {
  return [NGINX_PREFIX.binary, '-p', `${NGINX_PREFIX.prefix}/`, '-c', NGINX_PREFIX.conf, ...args];
}

/** nginx.conf as a source build's would look, with an include directory for hactl's sites. */
export function nginxPrefixConf(): string {
  const p = NGINX_PREFIX;
  return `# nginx under its own prefix, as the seed document runs it (no packaged service, no /etc/nginx).
# Run it as: ${prefixNginxCommand().join(' ')} [-t | -s reload | -s stop]
worker_processes  1;
error_log  ${p.prefix}/logs/error.log;
pid        ${p.pidFile};

events {
    worker_connections  1024;
}

http {
    include       mime.types;
    default_type  application/octet-stream;
    sendfile      on;
    keepalive_timeout  65;
    access_log    ${p.prefix}/logs/access.log;

    # Debian's binary has its own temp paths compiled in; a prefix install keeps them inside.
    client_body_temp_path  ${p.prefix}/temp/client_body;
    proxy_temp_path        ${p.prefix}/temp/proxy;
    fastcgi_temp_path      ${p.prefix}/temp/fastcgi;
    uwsgi_temp_path        ${p.prefix}/temp/uwsgi;
    scgi_temp_path         ${p.prefix}/temp/scgi;

    include ${p.includeDir}/*.conf;
}
`;
}

/** What the lab inventory says about this layout, per cluster (the deploy side reads it). */
export function prefixNginxInventory(): { binary: string; conf_dir: string; pid_file: string } {
  return { binary: NGINX_PREFIX.binary, conf_dir: NGINX_PREFIX.confDir, pid_file: NGINX_PREFIX.pidFile };
}
