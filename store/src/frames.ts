import type { Socket } from 'node:net';

/**
 * The size of each MQTT packet, read from its fixed header as bytes arrive [MQTT-2.2.3], so a
 * client announcing a huge packet is cut off before the broker buffers it: aedes reads a whole
 * packet before any hook sees it. The first packet (CONNECT) gets the smaller `firstMax`.
 * It watches the socket's 'data' beside aedes' own reading ('readable' keeps the flow).
 */
export function watchPacketSizes(
  socket: Socket,
  limits: { firstMax: number; max: number },
  onOversize: (declared: number, max: number) => void,
): void {
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let left = 0;
  let packets = 0;
  const refuse = (declared: number, max: number) => {
    socket.removeListener('data', onData);
    onOversize(declared, max);
    socket.destroy();
  };
  function onData(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (state === 'body') {
        const take = Math.min(left, chunk.length - i);
        i += take;
        left -= take;
        if (left === 0) state = 'type';
      } else if (state === 'type') {
        i++;
        state = 'length';
        length = 0;
        multiplier = 1;
      } else {
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if (byte & 0x80) continue; // more length bytes follow (at most four; the parser checks)
        const max = packets++ === 0 ? limits.firstMax : limits.max;
        if (length > max) return refuse(length, max);
        left = length;
        state = left === 0 ? 'type' : 'body';
      }
    }
  }
  socket.on('data', onData);
}
