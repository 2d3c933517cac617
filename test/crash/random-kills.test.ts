import { randomKillsSuite } from './random-kills-suite.js';

// Shard 1 of 2 of the random-kill campaign (random-kills-2.test.ts runs the other half in parallel).
randomKillsSuite(0);
