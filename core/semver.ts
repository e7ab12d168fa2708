// The few semver functions the core uses, imported one by one: the package's index loads every
// function and class it has, which costs start-up time for nothing.
import coerce from 'semver/functions/coerce.js';
import lt from 'semver/functions/lt.js';
import satisfies from 'semver/functions/satisfies.js';
import valid from 'semver/functions/valid.js';
import validRange from 'semver/ranges/valid.js';

export const semver = { coerce, lt, satisfies, valid, validRange };
