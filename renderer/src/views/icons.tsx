/** Small inline SVG icons (nothing is loaded from anywhere), decorative: hidden from screen readers. */

/** Names of the icons. */
export type IconName = 'check' | 'alert' | 'eye-off' | 'pause' | 'play' | 'refresh' | 'copy' | 'folder' | 'shield' | 'x' | 'download' | 'stop' | 'info' | 'loader';

const PATHS: Readonly<Record<IconName, string>> = {
  check: 'M20 6 9 17l-5-5',
  alert: 'M12 9v4m0 4h.01M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z',
  'eye-off': 'M9.9 4.2A10 10 0 0 1 12 4c7 0 10 8 10 8a13.2 13.2 0 0 1-1.7 2.7M6.6 6.6A13.5 13.5 0 0 0 2 12s3 8 10 8a9.7 9.7 0 0 0 5.4-1.6M2 2l20 20M9.9 9.9a3 3 0 0 0 4.2 4.2',
  pause: 'M10 4H6v16h4zM18 4h-4v16h4z',
  play: 'm6 3 14 9-14 9z',
  refresh: 'M21 12a9 9 0 0 1-15.5 6.2L3 16m0 5v-5h5M3 12a9 9 0 0 1 15.5-6.2L21 8m0-5v5h-5',
  copy: 'M8 8h12v12H8zM16 8V4H4v12h4',
  folder: 'M3 6a2 2 0 0 1 2-2h4l2 3h8a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
  shield: 'M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10zm-3-10 2 2 4-4',
  x: 'M18 6 6 18M6 6l12 12',
  download: 'M12 3v12m-5-5 5 5 5-5M5 21h14',
  stop: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM15 9l-6 6m0-6 6 6',
  info: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zm0-6v-4m0-4h.01',
  loader: 'M12 3a9 9 0 1 0 9 9',
};

/** One icon, sized by the surrounding font. */
export function Icon({ name, className }: { readonly name: IconName; readonly className?: string }) {
  return (
    <svg className={['icon', `icon-${name}`, className].filter(Boolean).join(' ')} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}
