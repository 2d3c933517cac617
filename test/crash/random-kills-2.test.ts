import { randomKillsSuite } from './random-kills-suite.js';

// Shard 2 of 2 of the random-kill campaign (random-kills.test.ts runs the other half in parallel).
randomKillsSuite(1);
