// Released Cream architectures in the named form (imagenet space).
export const CREAM_287M = [
  ['k3e4'],
  ['k5e6', 'k5e6'],
  ['k5e6', 'k3e6', 'k5e6'],
  ['k5e6', 'k5e6', 'k5e6', 'k5e6'],
  ['k5e6', 'k5e6', 'k5e6'],
];
export const CREAM_481M = [
  ['k5e6', 'k7e4', 'k5e6', 'k3e6'],
  ['k5e6', 'k5e4', 'k5e6', 'k3e4'],
  ['k5e6', 'k5e6', 'k5e6', 'k3e6', 'k3e6'],
  ['k5e6', 'k5e6', 'k5e6', 'k5e6'],
  ['k5e6', 'k5e6', 'k5e6', 'k5e6'],
];
