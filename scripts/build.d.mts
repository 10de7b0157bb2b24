export const ROOT: string
export const DIST: string
export const MANIFEST: string
export function buildHub (): Promise<string[]>
