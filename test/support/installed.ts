// the installed HAProxy and NGINX versions are read the same way by `meshgen test`
export { installedVersion, forInstalled } from '../../src/meshtest/installed.js';
