/**
 * The inspector page's script: follows the live stream, keeps one card per resource, and moves the
 * ages and countdowns between updates. Names and errors are set as text, never as HTML.
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict'
  var body = document.body
  var list = document.getElementById('rows')
  var live = document.getElementById('live')
  var ready = document.getElementById('ready')
  var counts = document.getElementById('counts')
  var conn = document.getElementById('conn')
  var footer = document.getElementById('omitted')
  var refreshUrl = body.getAttribute('data-refresh')
  var cards = new Map()
  var shown = []
  var receivedAt = 0
  var SOURCES = { load: 'loader', store: 'snapshot', fleet: 'fleet' }
  var SVG = 'http://www.w3.org/2000/svg'

  function dur(ms) {
    if (ms === undefined || ms === null) return '\\u2013'
    if (ms < 1000) return Math.max(0, Math.round(ms)) + ' ms'
    var s = ms / 1000
    if (s < 120) return s.toFixed(1) + ' s'
    if (s < 7200) return (s / 60).toFixed(1) + ' min'
    return (s / 3600).toFixed(1) + ' h'
  }
  function clock(iso) {
    var d = new Date(iso)
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString()
  }
  function make(tag, cls, parent) {
    var node = document.createElement(tag)
    if (cls) node.className = cls
    if (parent) parent.appendChild(node)
    return node
  }
  function fact(parent, label) {
    var span = make('span', '', parent)
    span.appendChild(document.createTextNode(label + ' '))
    return make('b', '', span)
  }

  function card(name) {
    var c = { root: make('article', 'row') }
    c.root.setAttribute('data-name', name)
    var head = make('div', 'head', c.root)
    make('span', 'name', head).textContent = name
    c.status = make('span', 'status', head)
    c.since = make('span', 'since', head)
    c.crit = make('span', 'crit', head)
    if (refreshUrl) {
      var button = make('button', '', head)
      button.type = 'button'
      button.textContent = 'refresh'
      button.addEventListener('click', function () {
        fetch(refreshUrl + '/' + encodeURIComponent(name), { method: 'POST' }).catch(function () {})
      })
    }
    var bar = make('div', 'bar', c.root)
    bar.title = 'age of the value; the mark is the interval, the end maxStale'
    c.fill = make('i', 'fill', bar)
    c.mark = make('b', 'mark', bar)
    var facts = make('div', 'facts', c.root)
    c.age = fact(facts, 'age')
    c.next = fact(facts, 'next')
    c.source = fact(facts, 'from')
    c.loads = fact(facts, 'loads')
    c.spark = document.createElementNS(SVG, 'svg')
    c.spark.setAttribute('class', 'spark')
    c.spark.setAttribute('viewBox', '0 0 84 22')
    c.line = document.createElementNS(SVG, 'polyline')
    c.spark.appendChild(c.line)
    var title = document.createElementNS(SVG, 'title')
    c.spark.appendChild(title)
    c.sparkTitle = title
    facts.appendChild(c.spark)
    c.errors = make('ul', 'errors', c.root)
    c.value = make('pre', 'value', null)
    return c
  }

  function fill(c, r) {
    c.root.className = 'row st-' + r.status
    c.status.textContent = r.status
    c.since.textContent = r.failingSince ? 'failing since ' + clock(r.failingSince) : ''
    c.crit.textContent = r.critical ? '' : 'optional'
    c.source.textContent = r.source ? SOURCES[r.source] || r.source : '\\u2013'
    c.loads.textContent = r.loads + (r.failures ? ' (' + r.failures + ' failed)' : '')
    var d = r.durations || []
    var max = Math.max.apply(null, d.concat([1]))
    var points = d.map(function (v, i) {
      var x = d.length === 1 ? 84 : (i * 84) / (d.length - 1)
      return x.toFixed(1) + ',' + (21 - (v / max) * 20).toFixed(1)
    })
    c.line.setAttribute('points', points.join(' '))
    c.sparkTitle.textContent = d.length ? 'recent loads: ' + d.map(dur).join(', ') : 'no load yet'
    c.errors.textContent = ''
    var errors = r.errors || []
    for (var i = errors.length - 1; i >= 0; i--) {
      var li = make('li', '', c.errors)
      make('time', '', li).textContent = clock(errors[i].at)
      li.appendChild(document.createTextNode(errors[i].code + ': ' + (errors[i].cause || errors[i].message)))
    }
    if (r.value !== undefined) {
      c.value.textContent = r.value
      if (!c.value.parentNode) c.root.appendChild(c.value)
    } else if (c.value.parentNode) c.root.removeChild(c.value)
  }

  function move() {
    var elapsed = performance.now() - receivedAt
    for (var i = 0; i < shown.length; i++) {
      var r = shown[i]
      var c = cards.get(r.name)
      var age = r.age === undefined ? undefined : r.age + elapsed
      c.age.textContent = dur(age)
      if (r.loading) c.next.textContent = 'loading'
      else if (r.nextRefreshIn === undefined) c.next.textContent = '\\u2013'
      else c.next.textContent = dur(Math.max(0, r.nextRefreshIn - elapsed))
      var scale = r.maxStale || 2 * r.interval
      var part = age === undefined ? 0 : Math.min(1, age / scale)
      c.fill.style.width = (part * 100).toFixed(1) + '%'
      c.fill.className = 'fill' + (r.maxStale && age > r.maxStale ? ' bad' : age > r.interval * 1.2 ? ' warn' : '')
      c.mark.style.left = Math.min(100, (r.interval / scale) * 100).toFixed(1) + '%'
    }
  }

  function render(s) {
    receivedAt = performance.now()
    shown = s.resources
    var seen = new Set()
    if (list.getAttribute('data-server') !== null) {
      list.textContent = ''
      list.removeAttribute('data-server')
    }
    for (var i = 0; i < shown.length; i++) {
      var r = shown[i]
      seen.add(r.name)
      var c = cards.get(r.name)
      if (!c) cards.set(r.name, (c = card(r.name)))
      fill(c, r)
      list.appendChild(c.root)
    }
    cards.forEach(function (c, name) {
      if (!seen.has(name)) {
        c.root.remove()
        cards.delete(name)
      }
    })
    live.textContent = s.live ? 'live' : 'not live'
    live.className = 'badge ' + (s.live ? 'ok' : 'bad')
    ready.textContent = s.ready ? 'ready' : 'not ready'
    ready.className = 'badge ' + (s.ready ? 'ok' : 'bad')
    var parts = []
    for (var k in s.counts) parts.push(s.counts[k] + ' ' + k)
    counts.textContent = parts.join(' \\u00b7 ')
    footer.textContent = s.omitted ? s.omitted + ' more resources not shown' : ''
    move()
  }

  function connect() {
    var stream = new EventSource(body.getAttribute('data-stream'))
    stream.onopen = function () { conn.textContent = 'live updates' }
    stream.onmessage = function (event) {
      conn.textContent = 'updated ' + new Date().toLocaleTimeString()
      render(JSON.parse(event.data))
    }
    stream.addEventListener('end', function (event) {
      stream.close()
      conn.textContent = 'stream ended (' + JSON.parse(event.data) + '); retrying'
      setTimeout(connect, 5000)
    })
    stream.onerror = function () { conn.textContent = 'reconnecting\\u2026' }
  }

  setInterval(move, 200)
  connect()
})()
`
