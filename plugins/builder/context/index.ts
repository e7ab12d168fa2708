// The build context's contract with the builder: what dockerd's remotecontext gives its builder.
export { openContext, locateDockerfile, DEFAULT_DOCKERFILE, type BuildContext, type OpenContextOptions, type DockerIgnore, type IndexedEntry } from './open.js';
export { PatternMatcher, readIgnoreFile } from './dockerignore.js';
export { ContentHasher } from './content-hash.js';
export { isGitURL, isURL, parseGitURL } from './remote.js';
