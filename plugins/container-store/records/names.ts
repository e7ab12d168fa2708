// Container names: dockerd's pattern and messages, and generated names for unnamed containers.
import { randomInt } from 'node:crypto';
import { invalid } from '../../../core/plugin-api.js';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkName(name: string): string {
  if (!VALID.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

const LEFT = ['admiring', 'bold', 'brave', 'calm', 'clever', 'eager', 'festive', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'serene', 'sharp', 'stoic', 'tender', 'zen'];
const RIGHT = ['albattani', 'bell', 'curie', 'darwin', 'euler', 'fermi', 'galileo', 'hopper', 'kepler', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'tesla', 'turing', 'wozniak', 'yonath'];

export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 100; i++) {
    const name = `/${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}${i > 10 ? randomInt(10) : ''}`;
    if (!taken(name)) return name;
  }
  throw new Error('cannot generate a free container name');
}
