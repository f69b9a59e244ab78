import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { get_dmmf } from '@prisma/prisma-schema-wasm';

// Compares a migrated database with prisma/schema.prisma: tables, columns, column types,
// nullability, primary keys and enum values. Any difference is returned as one line; the drift
// test asserts the list is empty. Needed because our migrations are hand-written SQL.

export const defaultSchemaPath = path.resolve(import.meta.dirname, '../../prisma/schema.prisma');

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { fields: string[] } | null;
}
interface Dmmf {
  datamodel: { models: DmmfModel[]; enums: { name: string; dbName?: string | null; values: { name: string }[] }[] };
}

const scalarUdt: Record<string, string> = {
  String: 'text',
  Int: 'int4',
  BigInt: 'int8',
  Boolean: 'bool',
  Float: 'float8',
  Decimal: 'numeric',
  Json: 'jsonb',
  Bytes: 'bytea',
  DateTime: 'timestamp',
};
const nativeUdt: Record<string, string> = {
  Uuid: 'uuid',
  Timestamptz: 'timestamptz',
  Timestamp: 'timestamp',
  Text: 'text',
  Date: 'date',
  Json: 'json',
  JsonB: 'jsonb',
};

function expectedUdt(f: DmmfField): string {
  const base =
    f.kind === 'enum' ? f.type : (f.nativeType && nativeUdt[f.nativeType[0]]) || scalarUdt[f.type] || `?${f.type}`;
  return f.isList ? `_${base}` : base;
}

export async function loadDmmf(schemaPath = defaultSchemaPath): Promise<Dmmf> {
  const prismaSchema = await readFile(schemaPath, 'utf8');
  return JSON.parse(get_dmmf(JSON.stringify({ prismaSchema }))) as Dmmf;
}

export async function schemaDrift(databaseUrl: string, schemaPath = defaultSchemaPath): Promise<string[]> {
  const dmmf = await loadDmmf(schemaPath);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const cols = await client.query<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(
      // Partitions of a partitioned table (events_2026_11_21, events_default) are storage, not schema.
      `SELECT c.table_name, c.column_name, c.udt_name, c.is_nullable FROM information_schema.columns c
       JOIN pg_class k ON k.relname = c.table_name JOIN pg_namespace n ON n.oid = k.relnamespace AND n.nspname = c.table_schema
       WHERE c.table_schema = current_schema() AND c.table_name <> '_prisma_migrations' AND NOT k.relispartition`,
    );
    const pks = await client.query<{ table_name: string; column_name: string }>(
      `SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
       JOIN pg_class k ON k.relname = tc.table_name
       WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() AND NOT k.relispartition`,
    );
    const enums = await client.query<{ typname: string; labels: string[] }>(
      `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels FROM pg_type t
       JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = current_schema() GROUP BY t.typname`,
    );

    const actual = new Map<string, Map<string, { udt: string; nullable: boolean }>>();
    for (const c of cols.rows) {
      if (!actual.has(c.table_name)) actual.set(c.table_name, new Map());
      actual.get(c.table_name)!.set(c.column_name, { udt: c.udt_name, nullable: c.is_nullable === 'YES' });
    }
    const actualPk = new Map<string, string[]>();
    for (const r of pks.rows) actualPk.set(r.table_name, [...(actualPk.get(r.table_name) ?? []), r.column_name].sort());

    const diffs: string[] = [];
    const expectedTables = new Set<string>();
    for (const model of dmmf.datamodel.models) {
      const table = model.dbName ?? model.name;
      expectedTables.add(table);
      const have = actual.get(table);
      if (!have) {
        diffs.push(`table ${table}: in schema.prisma, missing from database`);
        continue;
      }
      const columnOf = new Map<string, string>();
      const expectedCols = new Set<string>();
      for (const f of model.fields) {
        if (f.kind === 'object') continue;
        const column = f.dbName ?? f.name;
        columnOf.set(f.name, column);
        expectedCols.add(column);
        const got = have.get(column);
        if (!got) {
          diffs.push(`column ${table}.${column}: in schema.prisma, missing from database`);
          continue;
        }
        const udt = expectedUdt(f);
        if (got.udt !== udt)
          diffs.push(`column ${table}.${column}: type ${got.udt} in database, ${udt} in schema.prisma`);
        // Prisma creates scalar lists without NOT NULL even when the field is required.
        const nullable = f.isList ? true : !f.isRequired;
        if (got.nullable !== nullable)
          diffs.push(`column ${table}.${column}: nullable=${got.nullable} in database, ${nullable} in schema.prisma`);
      }
      for (const column of have.keys()) {
        if (!expectedCols.has(column)) diffs.push(`column ${table}.${column}: in database, missing from schema.prisma`);
      }
      const pkFields = model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name);
      const expectedPk = pkFields.map((f) => columnOf.get(f) ?? f).sort();
      const gotPk = actualPk.get(table) ?? [];
      if (expectedPk.join(',') !== gotPk.join(',')) {
        diffs.push(
          `primary key ${table}: (${gotPk.join(', ')}) in database, (${expectedPk.join(', ')}) in schema.prisma`,
        );
      }
    }
    for (const table of actual.keys()) {
      if (!expectedTables.has(table)) diffs.push(`table ${table}: in database, missing from schema.prisma`);
    }
    const actualEnums = new Map(enums.rows.map((r) => [r.typname, r.labels.join(',')]));
    for (const e of dmmf.datamodel.enums) {
      const name = e.dbName ?? e.name;
      const want = e.values.map((v) => v.name).join(',');
      if (actualEnums.get(name) !== want)
        diffs.push(`enum ${name}: [${actualEnums.get(name) ?? 'missing'}] in database, [${want}] in schema.prisma`);
    }
    return diffs;
  } finally {
    await client.end();
  }
}
