// Users' own images, in one of the two layouts image datasets ship in:
//  - a folder with one sub-folder per class (class index = position in sorted folder names, as in
//    torchvision's ImageFolder), images possibly in nested folders;
//  - a list file of `relative/path label` lines (how ImageNet subsets are usually described).
// Every image is decoded once, converted to the configured channels and resized to the configured
// size, and kept as bytes. Anything unexpected is an error naming the file: a silently skipped file
// would change the class balance without anyone noticing. With `skipBad`, unreadable or unknown
// files are reported through `onSkip` and counted in `skipped` instead.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createDataset, type ImageDataset } from './dataset.ts';
import { DatasetError } from './errors.ts';
import { IMAGE_EXTENSIONS, readImageInto } from './image-decode.ts';

export interface ImageFolderOptions {
  /** Folder with one sub-folder per class; with `listFile`, the folder its paths are relative to. */
  root?: string;
  /** A file of `path label` lines; paths are relative to `root`, or to the list file's folder. */
  listFile?: string;
  height: number;
  width: number;
  /** 1 (grey) or 3 (RGB), whatever the files hold. */
  channels: number;
  /** Name in messages and split descriptions (default: the folder or list file name). */
  name?: string;
  /** Class names for list-file labels (default: '0', '1', ...). */
  classNames?: string[];
  /** Skip (and report) unreadable images and files with unknown extensions instead of failing. */
  skipBad?: boolean;
  /** Called for each skipped file; default writes one line to stderr. */
  onSkip?: (path: string, reason: string) => void;
  /** Called after each decoded image, for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export type ImageFolderDataset = ImageDataset & { skipped: SkippedFile[] };

interface Entry {
  path: string;
  label: number;
}

function isImageFile(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

function unknownExtension(path: string): string {
  const ext = extname(path) || '(none)';
  return `unknown extension ${ext} of ${path} (expected one of ${IMAGE_EXTENSIONS.join(', ')})`;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    throw new DatasetError(dir, `cannot read image folder ${dir}: ${(err as Error).message}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    throw new DatasetError(path, `cannot read ${path}: ${(err as Error).message}`);
  }
}

function collectFiles(dir: string, out: string[], bad: (path: string, reason: string) => void): void {
  for (const name of listDir(dir)) {
    const path = join(dir, name);
    if (isDirectory(path)) collectFiles(path, out, bad);
    else if (isImageFile(path)) out.push(path);
    else bad(path, unknownExtension(path));
  }
}

function scanClassFolders(root: string, bad: (path: string, reason: string) => void): [Entry[], string[]] {
  const classNames: string[] = [];
  const entries: Entry[] = [];
  for (const name of listDir(root)) {
    const path = join(root, name);
    if (!isDirectory(path)) {
      bad(path, `unexpected file ${path} in image folder ${root} (expected only one sub-folder per class)`);
      continue;
    }
    const files: string[] = [];
    collectFiles(path, files, bad);
    if (files.length === 0) {
      throw new DatasetError(path, `class folder ${path} holds no ${IMAGE_EXTENSIONS.join('/')} images`);
    }
    for (const file of files) entries.push({ path: file, label: classNames.length });
    classNames.push(name);
  }
  if (classNames.length === 0) throw new DatasetError(root, `image folder ${root} has no class sub-folders`);
  return [entries, classNames];
}

function parseListFile(listFile: string, root: string, bad: (path: string, reason: string) => void): Entry[] {
  let text: string;
  try {
    text = readFileSync(listFile, 'utf8');
  } catch (err) {
    throw new DatasetError(listFile, `cannot read list file ${listFile}: ${(err as Error).message}`);
  }
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    // The label is the last field, so paths may contain spaces.
    const match = /^(.*\S)\s+(\S+)$/.exec(line);
    const where = `${listFile}:${i + 1}`;
    if (!match) throw new DatasetError(listFile, `${where}: expected "path label", got "${line}"`);
    const label = Number(match[2]);
    if (!Number.isInteger(label) || label < 0) {
      throw new DatasetError(listFile, `${where}: label "${match[2]}" is not a non-negative integer`);
    }
    const path = resolve(root, match[1]);
    if (isImageFile(path)) entries.push({ path, label });
    else bad(path, `${where}: ${unknownExtension(path)}`);
  });
  if (entries.length === 0) throw new DatasetError(listFile, `list file ${listFile} names no images`);
  return entries;
}

/** Loads an image folder or list file into memory at the configured size and channels. */
export function loadImageFolder(options: ImageFolderOptions): ImageFolderDataset {
  const { height, width, channels, listFile } = options;
  if (!options.root && !listFile) throw new TypeError('loadImageFolder needs root, listFile or both');
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3, got ${channels}`);
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw new RangeError(`image size must be positive integers, got ${height}x${width}`);
  }
  const skipped: SkippedFile[] = [];
  const onSkip = options.onSkip ?? ((path, reason) => process.stderr.write(`skipping ${path}: ${reason}\n`));
  const bad = (path: string, reason: string): void => {
    if (!options.skipBad) throw new DatasetError(path, reason);
    skipped.push({ path, reason });
    onSkip(path, reason);
  };

  let entries: Entry[];
  let classNames: string[];
  let source: string;
  if (listFile) {
    const root = options.root ?? dirname(listFile);
    entries = parseListFile(listFile, root, bad);
    const maxLabel = entries.reduce((m, e) => Math.max(m, e.label), 0);
    classNames = options.classNames ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
    if (maxLabel >= classNames.length) {
      throw new DatasetError(listFile, `${listFile}: label ${maxLabel} but only ${classNames.length} class names`);
    }
    source = listFile;
  } else {
    source = options.root as string;
    [entries, classNames] = scanClassFolders(source, bad);
  }

  const imageBytes = height * width * channels;
  let images = new Uint8Array(new SharedArrayBuffer(entries.length * imageBytes));
  let labels = new Int32Array(new SharedArrayBuffer(entries.length * 4));
  let count = 0;
  const perClass = new Array<number>(classNames.length).fill(0);
  for (const entry of entries) {
    try {
      readImageInto(entry.path, height, width, channels, images.subarray(count * imageBytes, (count + 1) * imageBytes));
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      bad(entry.path, err.message);
      options.onProgress?.(count + skipped.length, entries.length);
      continue;
    }
    labels[count++] = entry.label;
    perClass[entry.label]++;
    options.onProgress?.(count + skipped.length, entries.length);
  }
  if (!listFile) {
    // Every file of a class may have been skipped; a class without images is still an error.
    const empty = perClass.indexOf(0);
    if (empty >= 0) {
      const folder = join(source, classNames[empty]);
      throw new DatasetError(folder, `class folder ${folder} has no readable images (${skipped.length} files skipped)`);
    }
  }
  if (count < entries.length) {
    images = new Uint8Array(images.buffer, 0, count * imageBytes);
    labels = new Int32Array(labels.buffer, 0, count);
  }
  const dataset = createDataset({
    name: options.name ?? basename(source),
    source,
    count,
    height,
    width,
    channels,
    images,
    labels,
    numClasses: classNames.length,
    classNames,
  });
  return { ...dataset, skipped };
}
