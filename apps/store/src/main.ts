import 'reflect-metadata';
import cluster from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig, AppConfig } from '@berth/config';
import { AppModule } from './app.module';
import { reportListening, runPrimary } from './cluster-primary';
import { configureHttp } from './http/configure-http';
import { isClusterWorker } from './ops/cluster-metrics';
import { MetricsServer } from './ops/metrics-endpoint';
import { startFields, writeListeningEvent } from './start-line';

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  configureHttp(app);
  return app;
}

/**
 * Serves HTTP from this process: the whole store (WEB_CONCURRENCY=1), or one of the primary's workers,
 * which share the port through node:cluster and report to the primary instead of announcing themselves.
 */
async function serve(config: AppConfig): Promise<void> {
  const worker = isClusterWorker(config);
  const app = await createApp(config);
  const server = app.getHttpServer();
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 300_000;
  // SIGTERM: stop accepting, let in-flight requests finish, close the database, exit 0. A stuck
  // request must not hold the pod forever, so a timer forces the exit. A worker gets it from its primary.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return; // a repeated signal must not cut the drain short; the timer bounds it
    stopping = true;
    app.get(Logger).log({ msg: 'shutting down', signal }, 'Bootstrap');
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await app.listen(config.port, config.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const logger = app.get(Logger);
  if (worker) {
    // The primary writes the one start line once every worker listens.
    logger.debug({ msg: 'berth listening', ...startFields(config, port) }, 'Bootstrap');
    reportListening(port, app.get(MetricsServer).port);
    return;
  }
  logger.log({ msg: `Berth is ready: open ${config.publicUrl}/`, ...startFields(config, port) }, 'Bootstrap');
  writeListeningEvent(port);
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  // Before anything big is allocated; workers run main() too, so each applies it to its own heap.
  if (config.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
  // WEB_CONCURRENCY > 1: this process applies migrations and supervises workers, which run main() again.
  if (config.workers > 1 && cluster.isPrimary) await runPrimary(config);
  else await serve(config);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`berth failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
