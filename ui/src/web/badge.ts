// The tab's title and favicon carry the unread count (seed 002): "(3) Herald" and a bell with
// a red badge drawn on a canvas.

export function titleFor(unread: number): string {
  return unread > 0 ? `(${unread}) Herald` : 'Herald';
}

const BELL =
  'M12 2a6 6 0 0 0-6 6v3.6L4.3 15a1 1 0 0 0 .9 1.5h13.6a1 1 0 0 0 .9-1.5L18 11.6V8a6 6 0 0 0-6-6Zm-2.5 16a2.5 2.5 0 0 0 5 0Z';

export function showUnread(unread: number): void {
  document.title = titleFor(unread);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const g = canvas.getContext('2d');
  if (!g) return;
  g.scale(64 / 24, 64 / 24);
  g.fillStyle = '#4f46e5';
  g.fill(new Path2D(BELL));
  if (unread > 0) {
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = '#dc2626';
    g.beginPath();
    g.arc(46, 18, 18, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#fff';
    g.font = 'bold 26px sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(unread > 99 ? '99' : String(unread), 46, 19);
  }
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.appendChild(link);
  }
  link.href = canvas.toDataURL('image/png');
  link.dataset.unread = String(unread);
}
