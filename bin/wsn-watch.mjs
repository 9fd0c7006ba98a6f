#!/usr/bin/env node
// Entry point of the `wsn-watch` command. The sources are TypeScript run
// through tsx, so a clone works without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
await main(process.argv);
