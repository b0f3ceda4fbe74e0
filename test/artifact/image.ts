// The container image, built and run without a daemon. Building: scripts/build-image.sh
// (buildah, vfs storage, chroot isolation). Running: no container runtime is needed either;
// a working container's root filesystem is mounted by buildah and entered as a container
// runtime would: in a mount namespace of its own (util-linux unshare), the root bind-mounted
// read-only, a host folder on /data, tmpfs on /tmp and /dev (with null, zero, random and
// urandom bound in), then chroot to the image's user (never root) and its entrypoint, with
// the image's environment only. The network is the host's, so tests reach it on loopback.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Launch } from '../support/server-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUILDAH = ['--storage-driver', 'vfs'];
const run = promisify(execFile);

async function buildah(...args: string[]): Promise<string> {
  const { stdout } = await run('buildah', [...BUILDAH, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** The image config a runtime obeys (docker format: HEALTHCHECK included). */
export interface ImageConfig {
  user: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  volumes: string[];
  healthcheck: string[];
}

/** Builds the image with scripts/build-image.sh; returns its id. */
export async function buildImage(tag: string): Promise<string> {
  const { stdout } = await run('bash', [path.join(ROOT, 'scripts/build-image.sh'), tag], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  return stdout.trim().split('\n').pop()!;
}

export async function inspectImage(tag: string): Promise<ImageConfig> {
  const info = JSON.parse(await buildah('inspect', '--type', 'image', tag)) as {
    Docker: {
      config: { User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; Volumes?: Record<string, unknown>; Healthcheck?: { Test?: string[] } };
    };
  };
  const c = info.Docker.config;
  return {
    user: c.User ?? '',
    env: Object.fromEntries((c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    volumes: Object.keys(c.Volumes ?? {}),
    healthcheck: c.Healthcheck?.Test ?? [],
  };
}

const ENTER = `set -eu
mount=$1; chroot=$2; root=$3; data=$4; user=$5; shift 5
"$mount" --bind "$root" "$root"
"$mount" -o remount,bind,ro "$root"
"$mount" --bind "$data" "$root/data"
"$mount" -t tmpfs -o size=64m,mode=1777,nosuid,nodev tmpfs "$root/tmp"
"$mount" -t tmpfs -o size=64k,mode=755,nosuid tmpfs "$root/dev"
for d in null zero random urandom; do : >"$root/dev/$d"; "$mount" --bind "/dev/$d" "$root/dev/$d"; done
exec "$chroot" --userspec="$user" "$root" "$@"
`;

function hostTool(name: string): string {
  return execFileSync('sh', ['-c', `command -v ${name}`], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } })
    .toString()
    .trim();
}

/** A working container of the image, its root filesystem mounted on the host. */
export class ImageContainer {
  private constructor(
    readonly config: ImageConfig,
    private readonly name: string,
    readonly rootfs: string,
  ) {}

  private readonly dataDirs: string[] = [];

  static async create(tag: string, config: ImageConfig): Promise<ImageContainer> {
    const name = await buildah('from', '--pull-never', tag);
    const rootfs = await buildah('mount', name);
    return new ImageContainer(config, name, rootfs);
  }

  /** A fresh host folder for /data, owned by the image's user. */
  dataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nexus-image-data-'));
    const [uid, gid] = this.config.user.split(':').map(Number);
    chownSync(dir, uid!, gid ?? uid!);
    this.dataDirs.push(dir);
    return dir;
  }

  /**
   * How to run `command` (default: the image's entrypoint and command) in the container, as a
   * runtime would, with `dataDir` on /data. Each launch has its own mount namespace, so
   * several may run at once from the one root filesystem.
   */
  launch(dataDir: string, command: string[] = [...this.config.entrypoint, ...this.config.cmd]): Launch {
    return {
      command: hostTool('unshare'),
      args: [
        '--mount',
        '--propagation',
        'private',
        '/bin/sh',
        '-c',
        ENTER,
        'enter',
        hostTool('mount'),
        hostTool('chroot'),
        this.rootfs,
        dataDir,
        this.config.user,
        ...command,
      ],
      env: this.config.env,
    };
  }

  /** Bytes in the container's root filesystem (the image unpacked). */
  size(): number {
    return Number(execFileSync('du', ['-sb', this.rootfs]).toString().split('\t')[0]);
  }

  async remove(): Promise<void> {
    await buildah('umount', this.name).catch(() => {});
    await buildah('rm', this.name).catch(() => {});
    for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}
