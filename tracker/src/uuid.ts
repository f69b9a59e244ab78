// A random (version 4) UUID per event, so the collect endpoint can drop a retried duplicate.
// crypto.randomUUID exists only in secure contexts; plain-http sites get the same format from
// getRandomValues (available everywhere): the template keeps version 4 and sets the variant bits.
export const uuid = (c: Crypto = crypto): string =>
  c.randomUUID
    ? c.randomUUID()
    : // [1e7]+-1e3+… is "10000000-1000-4000-8000-100000000000", in fewer bytes.
      (([1e7] as unknown as string) + -1e3 + -4e3 + -8e3 + -1e11).replace(/[018]/g, (x) =>
        (+x ^ (c.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+x / 4)))).toString(16),
      );
