import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspectorPort } from './edge'
import { freePort, type ManagedProcess, spawnManaged, waitFor } from './processes'
import { buildForWorkerd, startWorkerdEdge } from './selfhost'

const NGINX = '/usr/sbin/nginx'

/** The temp directories nginx wants (created under the router's directory). */
const NGINX_TEMP_DIRS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']

/** What the state directory was laid out for: its rooms' storage belongs to this many processes. */
const LAYOUT_FILE = 'layout.json'

/**
 * The nginx config in front of the edge's processes: everything for a room — its socket,
 * sends, history, presence, publish, the origin's stats call (`/v1/rooms/:id/…`,
 * `/internal/rooms/:id/…`) — goes to the process that owns the room, chosen by a hash of
 * the room id over the process list (nginx's plain `hash`: by position, so the backends'
 * ports may change between runs); everything else to one fixed process (the live
 * dashboard's object lives there); `/health/edge-N` is process N's health check. A
 * process that is down answers 502: never another process, which would open the room on
 * storage that is not its own (`max_fails=0`, `proxy_next_upstream off`).
 */
export function edgeRouterConfig(options: { dir: string; port: number; backends: number[] }) {
  const { dir, port, backends } = options
  return `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_processes 1;
events { worker_connections 65536; }
http {
${NGINX_TEMP_DIRS.map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n')}
  access_log off;
  map $uri $plaza_room {
    "~^/(?:v1|internal)/rooms/(?<plaza_room_id>[^/]+)/" $plaza_room_id;
    default "-";
  }
  map $http_upgrade $plaza_connection {
    default upgrade;
    "" "";
  }
  upstream plaza_edge {
    hash $plaza_room;
${backends.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 8m;
    # /health answers for the process that holds no rooms' traffic; each process by its number:
${backends.map((p, n) => `    location = /health/edge-${n} { proxy_pass http://127.0.0.1:${p}/health; }`).join('\n')}
    location / {
      proxy_pass http://plaza_edge;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $plaza_connection;
      proxy_next_upstream off;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 1d;
      proxy_send_timeout 1d;
    }
  }
}
`
}

/**
 * Refuses a process count the state directory's storage was not written for: a room
 * hashed to another process would open on empty storage and number its messages again
 * while its own storage still held unshipped ones.
 */
export function checkLayout(stateDir: string, processes: number): void {
  const file = join(stateDir, LAYOUT_FILE)
  const laidOut = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { processes: number }).processes
    : (storedLayout(stateDir) ?? processes)
  if (laidOut !== processes) {
    throw new Error(
      `${stateDir} holds rooms laid out for ${laidOut} edge process(es); starting ${processes} ` +
        'would open rooms on storage that is not theirs. Use the same PLAZA_EDGE_PROCESSES, or a ' +
        'fresh state directory once every message has landed (GET /health shows the outboxes).',
    )
  }
  mkdirSync(stateDir, { recursive: true })
  writeFileSync(file, JSON.stringify({ processes }))
}

/**
 * Without the record (written before it existed, or lost), what the storage shows: one
 * process keeps its rooms in `do/`, several in `edge-N/`; null for a directory with neither.
 */
function storedLayout(stateDir: string): number | null {
  if (!existsSync(stateDir)) return null
  const dir = join(stateDir, 'do')
  if (existsSync(dir) && readdirSync(dir).length > 0) return 1
  return readdirSync(stateDir).filter((name) => /^edge-\d+$/.test(name)).length || null
}

/** nginx with `config`, its pid, logs and temp files under `dir`; checked (`nginx -t`) first. */
function startRouter(dir: string, config: string, echo?: boolean): ManagedProcess {
  for (const t of NGINX_TEMP_DIRS) mkdirSync(join(dir, t), { recursive: true })
  const file = join(dir, 'nginx.conf')
  writeFileSync(file, config)
  const test = spawnSync(NGINX, ['-t', '-q', '-c', file, '-p', dir])
  if (test.status !== 0) throw new Error(`the edge's nginx config is invalid: ${test.stderr}`)
  return spawnManaged('edge-router', NGINX, ['-c', file, '-p', dir], {
    cwd: dir,
    env: process.env,
    echo,
  })
}

/**
 * The self-hosted edge over `processes` workerd processes behind nginx, listening on
 * `port`. One workerd runs on one thread, and in many small rooms each message's commit
 * blocks that thread on the disk: processes side by side wait on it side by side
 * (docs/BENCHMARKS.md). Each process runs the same bundle with its own storage
 * (`stateDir/edge-N`), its own rooms and relays. Returned as one process: stopping it stops all.
 */
export async function startWorkerdCluster(options: {
  vars: Record<string, string>
  port: number
  stateDir: string
  processes: number
  echo?: boolean
}): Promise<ManagedProcess> {
  if (!existsSync(NGINX)) {
    throw new Error(
      `PLAZA_EDGE_PROCESSES=${options.processes} routes rooms with nginx, and ${NGINX} is missing: apt-get install nginx`,
    )
  }
  // The launcher has checked the state directory's layout (checkLayout) before calling.
  const backends: number[] = []
  const edges: ManagedProcess[] = []
  const stopAll = async () => {
    await Promise.all(edges.map((e) => e.stop()))
  }
  try {
    // One build for all: a `wrangler deploy --dry-run` is seconds, and every process runs the same.
    const built = await buildForWorkerd(options.stateDir)
    // PLAZA_INSPECTOR_PORT=P: process N's inspector on P + N (one port cannot serve two).
    const inspector = inspectorPort()
    for (let n = 0; n < options.processes; n++) {
      const port = await freePort()
      const stateDir = join(options.stateDir, `edge-${n}`)
      // One relay a process unless RELAY_COUNT says otherwise: every process ships its own
      // batches, and four processes of two relays each halved the messages per INSERT (12
      // against 23) and cost the origin a fifth more CPU (docs/BENCHMARKS.md).
      const vars = { RELAY_COUNT: '1', ...options.vars, EDGE_NODE: String(n) }
      const echo = options.echo
      const processInspector = inspector && inspector + n
      edges.push(
        await startWorkerdEdge({ vars, port, stateDir, echo, built, inspector: processInspector }),
      )
      backends.push(port)
    }
    // Started together, then each waited for: they come up side by side.
    await Promise.all(
      backends.map((port, n) => waitFor(`http://127.0.0.1:${port}/health`, edges[n]!, 60_000)),
    )
    const dir = join(options.stateDir, 'router')
    const router = startRouter(
      dir,
      edgeRouterConfig({ dir, port: options.port, backends }),
      options.echo,
    )
    edges.push(router)
    return {
      ...router,
      name: 'edge',
      logs: edges[0]!.logs,
      pids: edges.map((e) => e.child.pid).filter((pid) => pid !== undefined),
      stop: async (graceMs?: number) => {
        const code = await router.stop(graceMs)
        await stopAll()
        return code
      },
      kill: async () => {
        await Promise.all(edges.map((e) => e.kill()))
      },
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
