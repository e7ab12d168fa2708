// Docker's out-of-process plugin protocol (pkg/plugins): discovery of NAME.sock / NAME.spec /
// NAME.json, JSON over HTTP with application/vnd.docker.plugins.v1.2+json, Plugin.Activate and its
// Implements check, Err answers. Used by authz (AuthZPlugin) and volume-plugins (VolumeDriver).
export { answerError, PLUGIN_MEDIA_TYPE, PluginCallError, PluginClient } from './client.js';
export { discoverPlugin, parseAddress, PLUGIN_NAME, PluginNotFoundError, type PluginAddress, type PluginTls } from './discover.js';
export { ACTIVATE_TIMEOUT_MS, DockerPlugin, NotImplementedError } from './plugin.js';
