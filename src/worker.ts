// `npm run worker`: a process that runs the background jobs and the cron schedules and serves only
// /health on PORT; the web runs in other processes (NPQ_PROCESS=web). Needs DATABASE_URL.
// The same as `NPQ_PROCESS=worker node src/main.ts`.

process.env.NPQ_PROCESS = 'worker'
await import('./main.ts')
