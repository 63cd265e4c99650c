// URLs as logs and status show them: a password in the userinfo never leaves the configuration.

/** The URL with any password in it replaced by `***`; the user name stays (it tells which account). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^@/?#:]*):[^@/?#]*@/i, '$1:***@');
}

/** The configuration as `config check` prints it: the MQTT password and the spot server's token hidden. */
export function redactedConfig<T extends { mqtt: { url?: string }; spot_server: { token: string } }>(config: T): T {
  return {
    ...config,
    mqtt: { ...config.mqtt, ...(config.mqtt.url === undefined ? {} : { url: redactUrl(config.mqtt.url) }) },
    spot_server: { ...config.spot_server, token: config.spot_server.token === '' ? '' : '***' },
  };
}
