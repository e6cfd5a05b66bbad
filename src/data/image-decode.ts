// Decoding of PNG and JPEG files with pure-JS libraries (pngjs, jpeg-js): they install offline,
// need no native build, and are fast enough for the small images this project trains on.
// The format is taken from the file's signature, not its extension, so a mislabelled file still
// decodes and a corrupt one fails with the decoder's reason next to the file name.

import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { convertPixelChannels } from './dataset.ts';
import { DatasetError } from './errors.ts';
import { resizeBilinear } from './resize.ts';

export interface DecodedImage {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA); grey files come out with equal R, G and B. */
  channels: number;
  data: Uint8Array;
}

/** The file name extensions read as images (lower case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Decodes PNG or JPEG bytes; `path` names the file in errors. */
export function decodeImage(bytes: Uint8Array, path: string): DecodedImage {
  try {
    if (isPng(bytes)) {
      // pngjs expands palettes, grey and 16-bit samples to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, channels: 4, data: png.data };
    }
    if (isJpeg(bytes)) {
      // tolerantDecoding would silently return grey blocks for a truncated file; we want the error.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
      if (img.width === 0 || img.height === 0) throw new Error('no image data');
      return { width: img.width, height: img.height, channels: 3, data: img.data };
    }
  } catch (err) {
    throw new DatasetError(path, `cannot decode image ${path}: ${(err as Error).message}`);
  }
  throw new DatasetError(path, `cannot decode image ${path}: neither a PNG nor a JPEG signature`);
}

/**
 * Reads an image file and writes it into `dst` as [height, width, channels] bytes: channel
 * conversion first (alpha is dropped, RGB to grey uses luma), then antialiased bilinear resize.
 */
export function readImageInto(path: string, height: number, width: number, channels: number, dst: Uint8Array): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `cannot read image ${path}: ${(err as Error).message}`);
  }
  const img = decodeImage(bytes, path);
  const pixels = img.width * img.height;
  if (img.height === height && img.width === width) {
    convertPixelChannels(img.data, img.channels, dst, channels, pixels);
    return;
  }
  const converted = new Uint8Array(pixels * channels);
  convertPixelChannels(img.data, img.channels, converted, channels, pixels);
  resizeBilinear(converted, img.height, img.width, channels, dst, height, width);
}
