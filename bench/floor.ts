/**
 * The transport floor (issue 15): the least a node program can do to touch every load balancer
 * of a lab over SSH — connect with ssh2 to all of them in parallel, run `true`, close — so the
 * benchmark can print a no-op deploy as a ratio against it, measured in the same run.
 *
 *   node dist/bench/floor.js <lab.json>
 *
 * It reads lab.json (JSON, no YAML parser), authenticates with the lab's key as root, and
 * checks nothing else (no known_hosts, no ~/.ssh/config): what is left is node's start, ssh2's
 * import, the TCP and SSH handshakes, key exchange, one exec and its exit status. Prints one
 * JSON line: {hosts, ms} (ms measured inside the process, from start to the last close).
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const t0 = performance.now();
const lab = JSON.parse(readFileSync(process.argv[2], 'utf8')) as {
  hosts: { name: string; role: string; ip: string }[];
  files: { identity: string };
};
const privateKey = readFileSync(lab.files.identity);
const lbs = lab.hosts.filter((h) => h.role === 'lb');

function touch(ip: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('error', reject);
    client.once('ready', () =>
      client.exec('true', (err, stream) => {
        if (err) return reject(err);
        stream.resume();
        stream.once('exit', (code: number) => {
          if (code !== 0) reject(new Error(`${ip}: true exited ${code}`));
        });
        stream.once('close', () => {
          client.end();
          resolve();
        });
      }),
    );
    client.connect({ host: ip, port: 22, username: 'root', privateKey, readyTimeout: 20_000 });
  });
}

await Promise.all(lbs.map((h) => touch(h.ip)));
console.log(JSON.stringify({ hosts: lbs.length, ms: Math.round(performance.now() - t0) }));
