// Kubernetes helpers (they load @kubernetes/client-node), kept apart from the rest of the
// runtime so that a component that does not talk to the API (the relay) does not bundle
// or load the client: `@hairpin/shared/kube`.
export { ResilientInformer, type InformerOptions, type ListResult } from './informer.ts';
export { loadKubeConfig } from './kube-config.ts';
