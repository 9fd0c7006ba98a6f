// Regenerates docs/configuration.md from the configuration schema.
// Usage: node --import tsx scripts/config-doc.ts
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../common/config-docs.ts';

writeFileSync('docs/configuration.md', renderConfigDoc());
process.stderr.write('wrote docs/configuration.md\n');
