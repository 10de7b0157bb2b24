export function codeCacheFile (file: string, execArgv?: readonly string[]): string
export function loadBundle (file: string): { exports: Record<string, unknown>, codeCache: 'accepted' | 'rejected' | 'missing' }
