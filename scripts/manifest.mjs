// Writes oclif.manifest.json (what `oclif manifest` does), so `hactl <cmd>` loads only that
// command's module instead of importing every command to list them: ~0.5 s less per run.
import { rmSync, writeFileSync } from 'node:fs';
import { Config } from '@oclif/core';

const root = new URL('..', import.meta.url).pathname;
// Config.load reads an existing manifest instead of the commands: remove it, or a new command never appears.
rmSync(`${root}/oclif.manifest.json`, { force: true });
const config = await Config.load({ root, devPlugins: false, userPlugins: false });
const plugin = config.plugins.get(config.pjson.name);
const manifest = { ...plugin.manifest };
manifest.version = config.version;
writeFileSync(`${root}/oclif.manifest.json`, JSON.stringify(manifest, null, 2));
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
