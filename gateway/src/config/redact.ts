// URLs as logs and status show them: a password in the userinfo never leaves the configuration.

/** The URL with any password in it replaced by `***`; the user name stays (it tells which account). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^@/?#:]*):[^@/?#]*@/i, '$1:***@');
}
