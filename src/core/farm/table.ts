/**
 * Name-keyed tables (profiles, clients, variables, secrets) come from files a person writes, and names like
 * "constructor" or "__proto__" are valid there. A plain object would answer those from Object.prototype, so the tables
 * are made without a prototype and read through own(): a name that is not in the table is unknown, never inherited.
 */
export type Table<T> = Record<string, T>;

export function emptyTable<T>(): Table<T> {
  return Object.create(null) as Table<T>;
}

/** The entry stored under `name` in this very table, or undefined; works on plain objects too. */
export function own<T>(table: Table<T> | undefined, name: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

export function hasOwnName(table: object | undefined, name: string): boolean {
  return table !== undefined && Object.hasOwn(table, name);
}
