/*
 * page.js - the status page's one script: the banner that says the page
 * went stale, and the response-time charts, drawn when a site's details
 * are opened. The page's Content-Security-Policy allows this script by
 * its hash and nothing else; it reads numbers from data- attributes and
 * writes text with textContent, never markup.
 *
 * A site's data-c: "TOP HOURS DAYS". TOP is the y axis's top in ms; HOURS
 * holds two characters per hour of the last 24 (the median's level, then
 * the 95th percentile's), DAYS the same per day of the last 30. A level
 * is one of the 64 characters of LEVELS, 0 at the axis, 63 at TOP; "." is
 * a slot without a good check.
 */
(function () {
	'use strict';
	var LEVELS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
	var NS = 'http://www.w3.org/2000/svg';
	var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov',
		'Dec'];
	var main = document.querySelector('main');
	if (!main)
		return;
	var written = Number(main.getAttribute('data-written'));
	var staleAfter = Number(main.getAttribute('data-stale'));
	var hour0 = Number(main.getAttribute('data-hour0'));
	var day0 = Number(main.getAttribute('data-day0'));

	function ago(s) {
		var m = Math.floor(s / 60);
		if (m < 120)
			return m + ' minutes';
		if (m < 48 * 60)
			return Math.floor(m / 60) + ' hours';
		return Math.floor(m / 1440) + ' days';
	}

	function checkStale() {
		var banner = document.getElementById('stale');
		if (!banner || !(staleAfter > 0) || !(written > 0))
			return;
		var age = Date.now() / 1000 - written;
		if (age > staleAfter) {
			banner.textContent = 'This page was last updated ' + ago(age) +
			    ' ago: the monitor that writes it may have stopped, and what it shows may ' +
			    'no longer be true.';
			banner.hidden = false;
		} else {
			banner.hidden = true;
		}
	}

	function el(ns, name, attrs, parent, text) {
		var e = ns ? document.createElementNS(ns, name) : document.createElement(name);
		for (var k in attrs)
			e.setAttribute(k, attrs[k]);
		if (text !== undefined)
			e.textContent = text;
		if (parent)
			parent.appendChild(e);
		return e;
	}

	function pad(n) {
		return (n < 10 ? '0' : '') + n;
	}

	function hhmm(t) {
		var d = new Date(t * 1000);
		return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
	}

	function dayName(t) {
		var d = new Date(t * 1000);
		return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()];
	}

	function ms(v) {
		return v >= 10000 ? (v / 1000) + ' s' : v + ' ms';
	}

	/* the levels of one series: a number from 0 to 63 per slot, or -1 */
	function series(s, n, which) {
		var out = [];
		for (var i = 0; i < n; i++) {
			var c = s.charAt(2 * i + which);
			out.push(c === '.' || c === '' ? -1 : LEVELS.indexOf(c));
		}
		return out;
	}

	function path(levels, w, h) {
		var d = '', pen = false;
		for (var i = 0; i < levels.length; i++) {
			if (levels[i] < 0) {
				pen = false;
				continue;
			}
			var x = (i + 0.5) * w, y = (h - 2 - levels[i] * (h - 4) / 63).toFixed(1);
			var alone = !pen && (i + 1 >= levels.length || levels[i + 1] < 0);
			d += (pen ? ' L' : ' M') + x + ' ' + y;
			if (alone)
				d += ' M' + (x - w / 3) + ' ' + y + ' L' + (x + w / 3) + ' ' + y;
			pen = true;
		}
		return d;
	}

	function chart(box, caption, top, data, n, xlabels, empty) {
		var fig = el(null, 'figure', { 'class': 'chart' }, box);
		var cap = el(null, 'figcaption', {}, fig, caption + ' ');
		el(null, 'span', { 'class': 'k50' }, cap, 'median');
		el(null, 'span', { 'class': 'k95' }, cap, '95th percentile');
		var p50 = series(data, n, 0), p95 = series(data, n, 1), any = false;
		for (var i = 0; i < n; i++)
			any = any || p50[i] >= 0;
		if (!any) {
			el(null, 'p', { 'class': 'empty' }, fig, empty);
			return;
		}
		var plot = el(null, 'div', { 'class': 'plot' }, fig);
		var ya = el(null, 'div', { 'class': 'ya', 'aria-hidden': 'true' }, plot);
		el(null, 'span', {}, ya, ms(top));
		el(null, 'span', {}, ya, ms(top / 2));
		el(null, 'span', {}, ya, '0');
		var W = 10, H = 100;
		var svg = el(NS, 'svg', { viewBox: '0 0 ' + n * W + ' ' + H, preserveAspectRatio: 'none',
		    role: 'img', 'aria-label': caption + ', median and 95th percentile, axis up to ' +
		    ms(top) }, plot);
		for (var g = 0; g <= 2; g++)
			el(NS, 'path', { 'class': 'grid', d: 'M0 ' + (H - 2 - g * (H - 4) / 2) + ' H' + n * W },
			    svg);
		el(NS, 'path', { 'class': 'l95', d: path(p95, W, H) }, svg);
		el(NS, 'path', { 'class': 'l50', d: path(p50, W, H) }, svg);
		var xa = el(null, 'div', { 'class': 'xa', 'aria-hidden': 'true' }, fig);
		for (var j = 0; j < xlabels.length; j++)
			el(null, 'span', {}, xa, xlabels[j]);
	}

	function draw(details) {
		var spec = details.getAttribute('data-c');
		var after = details.querySelector('.r') || details.querySelector('.f');
		if (!spec || !after || details.querySelector('.charts'))
			return;
		/* after the figures: the page leaves the box out, a few bytes a site */
		var box = el(null, 'div', { 'class': 'charts' });
		after.parentNode.insertBefore(box, after.nextSibling);
		var parts = spec.split(' ');
		var top = Number(parts[0]);
		if (!(top > 0) || parts.length !== 3)
			return;
		chart(box, 'Response time, last 24 hours', top, parts[1], 24,
		    [hhmm(hour0), hhmm(hour0 + 6 * 3600), hhmm(hour0 + 12 * 3600),
		    hhmm(hour0 + 18 * 3600), 'now'], 'No successful check in the last 24 hours.');
		chart(box, 'Response time, last 30 days', top, parts[2], 30,
		    [dayName(day0), dayName(day0 + 10 * 86400), dayName(day0 + 20 * 86400), 'today'],
		    'No successful check in the last 30 days.');
	}

	/*
	 * The sites opened stay open when the page reloads itself (its meta
	 * refresh): their ids are kept for this tab in sessionStorage.
	 */
	var KEY = 'squirrel-open:' + location.pathname;
	function remember() {
		var ids = [], open = document.querySelectorAll('details[open][data-c]');
		for (var i = 0; i < open.length; i++)
			ids.push(open[i].id);
		try {
			sessionStorage.setItem(KEY, ids.join(' '));
		} catch (e) {
			/* storage off: they close on a reload, nothing worse */
		}
	}
	function restore() {
		var kept = '';
		try {
			kept = sessionStorage.getItem(KEY) || '';
		} catch (e) {
			return;
		}
		var ids = kept.split(' ');
		for (var i = 0; i < ids.length; i++) {
			var d = /^s[0-9]+$/.test(ids[i]) ? document.getElementById(ids[i]) : null;
			if (d && d.tagName === 'DETAILS')
				d.open = true;
		}
	}

	checkStale();
	setInterval(checkStale, 30000);
	restore();
	document.addEventListener('toggle', function (e) {
		if (!e.target || !e.target.hasAttribute || !e.target.hasAttribute('data-c'))
			return;
		if (e.target.open)
			draw(e.target);
		remember();
	}, true);
	var open = document.querySelectorAll('details[open][data-c]');
	for (var i = 0; i < open.length; i++)
		draw(open[i]);
	document.documentElement.className += ' js';
})();
