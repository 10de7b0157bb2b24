export function staleBuild (root: string): string | null
