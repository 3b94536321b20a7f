// Watched time for block content videos, podcasts and recorded webinars (progressive enhancement:
// without this the media still plays, and the page says progress needs JavaScript). Only time played
// through counts: each stretch of normal playback becomes an interval [start, end] in seconds; a seek
// or a jump ends the stretch, so skipping ahead does not count. The server merges the intervals and
// decides completion (src/content/rules.ts), so nothing here can mark media as watched by itself.

const FLUSH_SECONDS = 15
// Between two timeupdate events playback moves about 0.25 s; a bigger step is a jump, not watching.
const MAX_STEP = 2

function track(media) {
  const url = media.dataset.progressUrl
  const version = Number(media.dataset.version)
  const csrf = media.dataset.csrf
  const status = document.getElementById('media-progress')
  const needsJs = document.getElementById('media-needs-js')
  if (needsJs) needsJs.hidden = true
  if (!url || media.dataset.readonly === 'true') return

  let pending = []
  let start = null
  let last = null

  const smallStep = (from, to) => to - from >= 0 && to - from <= MAX_STEP * Math.max(1, media.playbackRate)
  // Ends the current stretch. On pause or end, playback reached the current time (if it moved on
  // normally since the last update); on a seek, only the last time reported while playing counts.
  const close = (reachedNow) => {
    if (reachedNow && last !== null && smallStep(last, media.currentTime)) last = media.currentTime
    if (start !== null && last !== null && last > start) pending.push([start, last])
    start = null
    last = null
  }

  media.addEventListener('playing', () => {
    start = media.currentTime
    last = media.currentTime
  })
  media.addEventListener('timeupdate', () => {
    if (media.paused || media.seeking || start === null) return
    const now = media.currentTime
    if (!smallStep(last, now)) {
      close(false)
      start = now
    }
    last = now
  })
  media.addEventListener('seeking', () => close(false))
  media.addEventListener('pause', () => {
    close(true)
    flush()
  })
  media.addEventListener('ended', () => {
    close(true)
    flush()
  })

  async function flush() {
    // A flush while playing sends the stretch so far and carries on from there.
    if (start !== null && last !== null && last > start) {
      pending.push([start, last])
      start = last
    }
    if (!pending.length) return
    const intervals = pending
    pending = []
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ version, intervals, _csrf: csrf }),
      })
      if (!res.ok) throw new Error(String(res.status))
      const { data } = await res.json()
      if (status)
        status.textContent = data.completed
          ? `You have watched ${data.percent}%. This is complete.`
          : `You have watched ${data.percent}%. It is complete at 90%.`
    } catch {
      // Keep them for the next try.
      pending = intervals.concat(pending)
    }
  }

  setInterval(() => {
    if (!media.paused) flush()
  }, FLUSH_SECONDS * 1000)
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush()
  })
}

document.querySelectorAll('video.app-media, audio.app-media').forEach(track)
