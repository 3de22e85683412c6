// The broker's side of the contract: who may publish and read what (Mosquitto's ACL, the
// embedded broker's checks) and every account's password, all from the topic catalog.
export { accessRules, clientIdOwner, filterAllowed, mosquittoAcl, topicMatches, type AccessRules } from './acl.js';
export {
  ACCOUNTS,
  HQ_DB_PASSWORD,
  makeCredentials,
  makeHqSecrets,
  mosquittoPasswordLine,
  newPassword,
  passwordVariable,
  type Account,
} from './credentials.js';
export { bridgeName, mosquittoBridge, type BridgeOptions } from './bridge.js';
