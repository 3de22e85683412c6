// Makes the broker's accounts for Docker Compose: broker/passwd (Mosquitto's password_file) and
// the passwords in .env, one per service plus the watchers, and the head office's database
// password (docker-compose.chain.yaml). Passwords already in .env are kept; `--rotate` makes new
// ones for the accounts. Neither file is committed.
//
//   pnpm broker:credentials [--rotate]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { makeCredentials, makeHqSecrets, mergeEnvFile } from './credentials.js';

const repo = new URL('../../', import.meta.url);
const envFile = new URL('.env', repo);
const existing = existsSync(envFile) ? readFileSync(envFile, 'utf8') : '';
const given = parse(existing);
const { passwordFile, env: accounts } = makeCredentials(given, { rotate: process.argv.includes('--rotate') });
const env = { ...accounts, ...makeHqSecrets(given) };
writeFileSync(new URL('broker/passwd', repo), passwordFile, { mode: 0o644 });
writeFileSync(envFile, mergeEnvFile(existing, env), { mode: 0o600 });
process.stdout.write(`wrote broker/passwd and ${Object.keys(env).length} passwords in .env\n`);
