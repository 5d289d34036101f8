/**
 * `npm run dist`: packages the built app (dist/, assets/) for Linux (AppImage, deb), Windows
 * (NSIS) and macOS (dmg) with electron-builder, into release/.
 *
 * Fuses (flipped in the packaged Electron binary, https://www.electronjs.org/docs/latest/tutorial/fuses):
 * no NODE_OPTIONS, no --inspect, asar integrity checked and the app loaded only from the asar, no
 * extra file:// privileges (the window uses ghostport://app/). ELECTRON_RUN_AS_NODE stays on:
 * /usr/bin/ghostport (deploy/linux/ghostport) runs the command line and the service on the Node
 * inside this Electron, as VS Code's `code` does; it lets whoever can already run programs run
 * this binary as Node, nothing more (the app asks for no entitlements a script could borrow).
 *
 * Linux packages: the tray app is `ghostport-tray` (desktop entry, /usr/bin/ghostport-tray);
 * `/usr/bin/ghostport` is the command line; the service's unit goes to /usr/lib/systemd/system
 * (not enabled); the post-install script creates the group `ghostport` that may read its socket.
 *
 * Test variant: Playwright's `_electron` drives the app through the Node inspector, which the
 * inspect fuse disables. `GHOSTPORT_BUILD_VARIANT=e2e npm run dist -- --linux dir` builds the
 * same app with only that fuse left on, into release-e2e/ (never shipped); run the Electron
 * tests against it with `GHOSTPORT_E2E_EXECUTABLE=release-e2e/linux-unpacked/ghostport npm test`.
 *
 * Native modules: none. The history uses node:sqlite (built into Electron's Node) and
 * systeminformation is plain JavaScript, so there is nothing to rebuild for Electron's ABI;
 * `npmRebuild` stays on so a native dependency added later is rebuilt automatically.
 */
const { join } = require('node:path');

const e2e = process.env.GHOSTPORT_BUILD_VARIANT === 'e2e';
const root = join(__dirname, '..', '..');

/** @type {import('electron-builder').Configuration} */
module.exports = {
  // Equals APP_USER_MODEL_ID (electron/main/app-identity.ts): Windows only shows toasts for a known AppUserModelID.
  appId: 'org.ghostport.app',
  productName: 'Ghostport',
  copyright: 'Copyright © Ghostport contributors',
  directories: { output: e2e ? 'release-e2e' : 'release', buildResources: 'assets' },
  files: ['dist/main/**', 'dist/preload/**', 'dist/renderer/**', 'dist/native/**', 'dist/cli/**', 'electron/node/cli/ghostport.mjs', 'assets/**', 'package.json', '!**/*.map'],
  // The netlink probe helper is executed, so it must live outside the asar archive.
  asarUnpack: ['dist/native/**'],
  extraMetadata: { main: 'dist/main/main.js' },
  asar: true,
  npmRebuild: true,
  publish: null,
  electronFuses: {
    runAsNode: true,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: e2e,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    executableName: 'ghostport-tray',
    icon: 'assets/icon.png',
    category: 'Network',
    synopsis: 'Tray monitor for port 596',
    description: 'Ghostport watches TCP/UDP port 596 and tells you the moment anything binds or talks to it, and who.',
    maintainer: 'Ghostport maintainers <maintainers@ghostport.invalid>',
    desktop: {
      entry: {
        Name: 'Ghostport',
        GenericName: 'Port monitor',
        Comment: 'Watches port 596 and tells you when anything uses it',
        Categories: 'Network;Monitor;',
        Keywords: 'port;596;socket;monitor;security;',
        StartupWMClass: 'Ghostport',
        Terminal: 'false',
      },
    },
  },
  deb: {
    // electron-builder's defaults plus iproute2 (ss: the fast, owner-aware socket source).
    depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0', 'iproute2'],
    // The tray on GNOME needs an AppIndicator/StatusNotifier host.
    recommends: ['libayatana-appindicator3-1 | libappindicator3-1'],
    afterInstall: 'deploy/linux/after-install.tpl',
    // Files outside /opt, owned by the package (fpm's source=destination arguments).
    fpm: [
      `${join(root, 'deploy/linux/ghostport')}=/usr/bin/ghostport`,
      `${join(root, 'deploy/systemd/ghostport.service')}=/usr/lib/systemd/system/ghostport.service`,
      `${join(root, 'deploy/prometheus/ghostport.rules.yml')}=/usr/share/ghostport/prometheus/ghostport.rules.yml`,
    ],
  },
  win: {
    target: ['nsis'],
    icon: 'assets/icon.png',
  },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
    createStartMenuShortcut: true,
    shortcutName: 'Ghostport',
  },
  mac: {
    target: ['dmg'],
    icon: 'assets/icon.png',
    category: 'public.app-category.utilities',
    // A menu-bar app: no Dock icon while it watches in the background.
    extendInfo: { LSUIElement: true },
  },
  dmg: { title: 'Ghostport' },
};
