/** The bundled schemas (OVN_Northbound 7.0.0, OVN_Southbound 20.27.0, Open_vSwitch 8.3.1). */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSchemaText, type DatabaseSchema } from './schema.js';

export const BUNDLED_SCHEMAS = ['ovn-nb', 'ovn-sb', 'vswitch'] as const;
export type BundledSchemaName = (typeof BUNDLED_SCHEMAS)[number];

const ALIASES: Record<string, BundledSchemaName> = {
  'ovn-nb': 'ovn-nb',
  OVN_Northbound: 'ovn-nb',
  nb: 'ovn-nb',
  'ovn-sb': 'ovn-sb',
  OVN_Southbound: 'ovn-sb',
  sb: 'ovn-sb',
  vswitch: 'vswitch',
  Open_vSwitch: 'vswitch',
};

export function bundledSchemaPath(name: BundledSchemaName): string {
  return fileURLToPath(new URL(`../../schemas/${name}.ovsschema`, import.meta.url));
}

/** Resolves a schema argument: a bundled name (ovn-nb, ovn-sb, vswitch) or a file path. */
export function resolveSchemaPath(nameOrPath: string): string {
  const b = ALIASES[nameOrPath];
  if (b) return bundledSchemaPath(b);
  if (existsSync(nameOrPath)) return nameOrPath;
  throw new Error(`${nameOrPath}: not a schema file, nor one of ${BUNDLED_SCHEMAS.join(', ')}`);
}

export function loadSchema(nameOrPath: string): DatabaseSchema {
  return parseSchemaText(readFileSync(resolveSchemaPath(nameOrPath), 'utf8'));
}
