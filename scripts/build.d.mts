export const ROOT: string
export const DIST: string
export const MANIFEST: string
export function sources (): string[]
export function buildHub (): Promise<number>
