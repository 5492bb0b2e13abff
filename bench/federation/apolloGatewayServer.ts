import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';

// Target (a) of the federation benchmark, a process of its own: stock @apollo/server + @apollo/gateway
// as their documentation sets them up (standalone HTTP server, default fetcher, default plugins), with
// only the landing page off. Serves the supergraph in SUPERGRAPH_FILE; tells its parent its port.
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8') });
const server = new ApolloServer({ gateway, plugins: [ApolloServerPluginLandingPageDisabled()] });
const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });

// A clean exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => void server.stop().finally(() => process.exit(0)));
process.send!({ type: 'ready', port: Number(new URL(url).port) });
