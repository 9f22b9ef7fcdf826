/** The bundle of `entry` (a path relative to the project root), built if it is stale. */
export function bundle(entry: string): Promise<string>;
