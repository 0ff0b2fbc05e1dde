/** File name of the worker entry that runs RtpSessionHandler (pass to workerEntryPath). */
export const RTP_WORKER_ENTRY = 'rtpWorkerEntry.js';
