// node --import this file: process.versions.node reads $HACTL_FAKE_NODE_VERSION (the engines
// check of bin/run.js, in test/cli/startup.test.ts).
Object.defineProperty(process.versions, 'node', { value: process.env.HACTL_FAKE_NODE_VERSION });
