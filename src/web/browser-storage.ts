/** This browser's localStorage, or null where storage is disabled (the page then forgets). */
export function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
