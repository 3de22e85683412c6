// The broker's side of the contract: who may publish and read what (Mosquitto's ACL, the
// embedded broker's checks) and every account's password, all from the topic catalog.
export { accessRules, clientIdOwner, filterAllowed, topicMatches, type AccessRules } from './acl.js';
export {
  ACCOUNTS,
  makeCredentials,
  mosquittoPasswordLine,
  newPassword,
  passwordVariable,
  type Account,
} from './credentials.js';
